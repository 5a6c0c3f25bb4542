"""The saved PIN lock: `pin-lock.json` in the state directory, so that wrong PINs and a running
lock outlive a restart or a power cut (terminal/core/session/pinlock.py decides what is saved).

Why a file and not a ledger table: the ledger is the signed journal of money and its outbox,
exported and verified; a PIN throttle is none of that, and the session thread can write a file
of its own without touching the ledger's schema or its lock. The file is tiny and written only
when what is saved changes (a wrong PIN, a right one after wrong ones, every 30 s of a lock and
its end), each time whole: a temporary file, fsync, rename, fsync of the directory, so a power
cut leaves the old content or the new, never half of one.

Called on the session thread only (terminal/app/loop.py), like everything that turns state into
effects. A file that cannot be read counts as a lock (fail closed); one that cannot be written
is logged and the lock still holds in memory: the counter keeps selling.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import fields
from pathlib import Path

from terminal.core.session.model import SessionConfig
from terminal.core.session.pinlock import SavedPinLock

log = logging.getLogger(__name__)

NAME = "pin-lock.json"
VERSION = 1
_MAX_BYTES = 4096  # what is saved is under 100 bytes; anything bigger is not ours
_MAX_VALUE = 10**12  # failures and milliseconds: far past anything real, yet bounded
_KEYS = tuple(field.name for field in fields(SavedPinLock))  # the JSON object's keys


class PinLockFile:
    """Loads the saved PIN lock once at start and keeps it up to date on disk."""

    def __init__(self, state_dir: Path):
        self.path = Path(state_dir) / NAME
        self._written: SavedPinLock | None = None  # what the file holds, when known
        self._refused: SavedPinLock | None = None  # the last value a write failed for

    def load(self, config: SessionConfig) -> SavedPinLock:
        """The saved lock; none when there is no file yet; a lock (SavedPinLock.unknown) when
        the file cannot be read, said in the log."""
        try:
            kept = _parse(_read(self.path))
        except FileNotFoundError:
            kept = SavedPinLock()
        except (OSError, ValueError) as error:
            log.error("%s: %s; PIN entry starts locked, as after wrong PINs", self.path, error)
            return SavedPinLock.unknown(config)  # _written stays unknown: the next keep repairs
        self._written = kept
        return kept

    def keep(self, kept: SavedPinLock) -> None:
        """Writes `kept` when it differs from what the file holds."""
        if kept in (self._written, self._refused):
            return  # unchanged, or already tried: one log line per value, not one per Tick
        text = json.dumps({"version": VERSION, **{key: getattr(kept, key) for key in _KEYS}})
        try:
            _write_atomically(self.path, text.encode("ascii"))
        except OSError as error:
            self._refused = kept
            log.error("%s: not saved (%s); the lock holds until the app stops", self.path, error)
            return
        self._written, self._refused = kept, None


def _read(path: Path) -> bytes:
    with path.open("rb") as file:
        data = file.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        raise ValueError(f"over {_MAX_BYTES} bytes")
    return data


def _parse(data: bytes) -> SavedPinLock:
    try:
        saved = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 ({error.reason})") from None
    if not isinstance(saved, dict) or saved.get("version") != VERSION:
        raise ValueError(f"not a version {VERSION} saved PIN lock")
    values = []
    for key in _KEYS:
        value = saved.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_VALUE:
            raise ValueError(f"{key} is {value!r}, not a whole number 0-{_MAX_VALUE}")
        values.append(value)
    return SavedPinLock(*values)


def _write_atomically(path: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)
