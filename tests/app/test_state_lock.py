"""One terminal per state directory (hostile test M8: two `qr-terminal run` on one state
directory were two writers of one ledger)."""

from __future__ import annotations

import pytest

from terminal.app.errors import AppError
from terminal.app.lock import StateLock


def test_a_second_terminal_on_the_same_state_directory_is_refused(tmp_path):
    first = StateLock.take(tmp_path)
    with pytest.raises(AppError, match="another qr-terminal is running"):
        StateLock.take(tmp_path)
    first.close()
    StateLock.take(tmp_path).close()  # released: the next start may run


def test_the_lock_is_released_when_the_holder_dies(tmp_path):
    import os

    child = os.fork()
    if child == 0:  # the child takes the lock and dies without closing anything
        StateLock.take(tmp_path)
        os._exit(0)
    os.waitpid(child, 0)
    StateLock.take(tmp_path).close()
