"""The state directory's run.lock: one running terminal, one writer of the ledger."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from terminal.app.errors import AppError
from terminal.ledger.reader import RUN_LOCK


class StateLock:
    """One running terminal per state directory: a second `qr-terminal run` would be a second
    writer of the ledger. An flock on `run.lock`, released by the kernel if the process dies."""

    NAME = RUN_LOCK  # the journal reader's stopped-terminal read checks the same file

    def __init__(self, descriptor: int):
        self.descriptor = descriptor

    @classmethod
    def take(cls, state_dir: Path) -> StateLock:
        path = Path(state_dir) / cls.NAME
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as error:
            raise AppError(f"{path}: cannot open the state directory's lock ({error})") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise AppError(
                f"{state_dir}: another qr-terminal is running on this state directory; stop it "
                "first (systemctl stop qr-terminal), one terminal writes one ledger"
            ) from None
        return cls(descriptor)

    def close(self) -> None:
        if self.descriptor >= 0:
            os.close(self.descriptor)  # releases the flock
            self.descriptor = -1
