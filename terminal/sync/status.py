"""What the status bar shows about the link to the platform: one frozen snapshot, swapped whole
by the sync thread, so reading it from the app thread is a single attribute load."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from terminal.sync.files import WriteFailures, save_quietly

HOUR_MS = 3_600_000
SAVE_EVERY_SECONDS = 5.0  # a change of contact times alone is saved at most this often
TIMES = frozenset({"last_contact_ms", "last_success_ms"})


@dataclass(frozen=True)
class SyncStatus:
    online: bool = False
    queue_depth: int = 0
    oldest_pending_ms: int | None = None
    last_contact_ms: int | None = None  # last answer of any kind from the platform
    last_success_ms: int | None = None  # last upload or call that went through
    parked: int = 0  # records the platform refused for good: the operator must look
    problem: str | None = None  # the last failure, one line, for the operator
    server_untrusted: bool = False  # TLS failed against the pinned CA
    clock_trusted: bool = False
    config_version: str | None = None

    def oldest_age_ms(self, now_ms: int) -> int | None:
        return None if self.oldest_pending_ms is None else max(0, now_ms - self.oldest_pending_ms)

    def describe(self, now_ms: int) -> list[str]:
        """Lines for `qr-terminal sync status` and the operator screen."""
        age = self.oldest_age_ms(now_ms)
        contact = (
            "never"
            if self.last_contact_ms is None
            else f"{(now_ms - self.last_contact_ms) / 1000:.0f} s ago"
        )
        lines = [
            f"link: {'online' if self.online else 'offline'}",
            f"queue: {self.queue_depth} record(s) waiting"
            + (f", oldest {age / 1000:.0f} s old" if age is not None else ""),
            f"parked: {self.parked} record(s) refused by the platform"
            + (" (operator: see `qr-terminal journal`)" if self.parked else ""),
            f"last contact: {contact}",
            f"clock: {'trusted' if self.clock_trusted else 'not trusted'}",
            f"config version: {self.config_version or 'local only'}",
        ]
        if self.server_untrusted:
            lines.append("warning: the server's certificate is not from the platform CA")
        if self.problem:
            lines.append(f"last problem: {self.problem}")
        return lines


class StatusBoard:
    """Holds the current SyncStatus. Writers replace it whole; readers just read `.current`.
    Saving it never raises: on a full or read-only disk the status stays right in memory (the
    UI reads that), the failure is logged once, and a later update writes it again."""

    def __init__(self, path: Path | None = None):
        self.current = SyncStatus()
        self.path = path  # where `qr-terminal sync status` finds it from another process
        self._lock = threading.Lock()  # the sync thread and the app's contact reports
        self._saved_at = float("-inf")  # when a write was last tried
        self._unsaved = False  # the file is behind `current` (throttled, or a write failed)
        self.failures = WriteFailures("sync status")

    def update(self, **changes) -> SyncStatus:
        with self._lock:
            old = self.current
            new = dataclasses.replace(old, **changes)
            important = False
            if new != old:
                self.current, self._unsaved = new, True
                important = any(
                    getattr(old, f.name) != getattr(new, f.name)
                    for f in dataclasses.fields(SyncStatus)
                    if f.name not in TIMES
                )
            # A change of contact times alone (or a retry after a failed write) waits for the
            # throttle: on a full disk that is one failing write per SAVE_EVERY_SECONDS.
            due = time.monotonic() - self._saved_at >= SAVE_EVERY_SECONDS
            if self._unsaved and (important or due):
                self._save(new)
            return new

    def _save(self, status: SyncStatus) -> None:
        if self.path is None:
            self._unsaved = False
            return
        self._saved_at = time.monotonic()
        text = json.dumps(dataclasses.asdict(status))
        self._unsaved = not save_quietly(self.path, text, self.failures)


def load_status(path: Path) -> SyncStatus | None:
    """The snapshot a running sync last saved, or None when there is none (or it is unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    fields = {}
    for field in dataclasses.fields(SyncStatus):
        if field.name not in data:
            continue
        value = data[field.name]
        if not _fits(field.name, value):
            return None  # a damaged or foreign file says nothing: never "online" by mistake
        fields[field.name] = value
    return SyncStatus(**fields)


# What each saved field may hold (JSON types; int fields never booleans).
_BOOLS = {"online", "server_untrusted", "clock_trusted"}
_COUNTS = {"queue_depth", "parked"}
_TIMES_MS = {"oldest_pending_ms", "last_contact_ms", "last_success_ms"}
_TEXTS = {"problem", "config_version"}


def _fits(name: str, value) -> bool:
    if name in _BOOLS:
        return isinstance(value, bool)
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if name in _COUNTS:
        return is_int and value >= 0
    if name in _TIMES_MS:
        return value is None or (is_int and 0 <= value < 2**53)
    if name in _TEXTS:
        return value is None or isinstance(value, str | int)
    return False
