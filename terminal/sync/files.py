"""The sync's small state files (status, stand cursor, key cache, pushed configuration),
written so a full or read-only disk never raises into the sync thread: the caller keeps the
state in memory and a later write tries again. Each kind of failure is logged once, not on
every pass, and the recovery once."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)


def write_atomically(path: Path, text: str) -> None:
    """Replaces `path` with `text` whole (a reader never sees half a file). Raises OSError;
    a temporary file left by a failed write is removed (on a full disk it holds space)."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


class WriteFailures:
    """Remembers which kinds of write failure (by errno) were already logged for one file, so
    a disk that stays full is logged once rather than at every pass."""

    def __init__(self, what: str):
        self.what = what
        self._lock = threading.Lock()
        self._logged: set[str] = set()

    @property
    def failing(self) -> bool:
        return bool(self._logged)

    def failed(self, path: Path, error: OSError) -> None:
        kind = errno.errorcode.get(error.errno or 0, type(error).__name__)
        with self._lock:
            if kind in self._logged:
                return
            self._logged.add(kind)
        log.warning(
            "%s: cannot write %s (%s: %s); kept in memory, the write is retried later",
            self.what,
            path,
            kind,
            error.strerror or error,
        )

    def succeeded(self, path: Path) -> None:
        with self._lock:
            if not self._logged:
                return
            self._logged.clear()
        log.info("%s: %s written again", self.what, path)


def save_quietly(path: Path, text: str, failures: WriteFailures) -> bool:
    """`write_atomically`, but an OSError is logged (once per kind) instead of raised.
    True when the file now holds `text`."""
    try:
        write_atomically(path, text)
    except OSError as error:
        failures.failed(path, error)
        return False
    failures.succeeded(path)
    return True
