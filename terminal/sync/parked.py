"""The operator's list of records the platform refused for good: one JSON line per record with
the platform's reason. The ledger keeps the record itself (state 'rejected', never deleted);
this list is what `qr-terminal sync status` shows and counts without opening the journal."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path

from terminal.sync.files import WriteFailures


class ParkedList:
    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {}
        self.failures = WriteFailures("parked list")
        if path is not None:
            self._ids = dict(read_parked(path))

    @property
    def count(self) -> int:
        return len(self._ids)

    def add(self, reasons: Mapping[str, str], now_ms: int) -> None:
        new = {k: v for k, v in reasons.items() if k not in self._ids}
        if not new:
            return
        with self._lock:
            if self.path is not None:
                try:
                    self._append(new, now_ms)
                except OSError as error:
                    # A full or read-only disk: the ledger keeps each record 'rejected' with
                    # its reason; the list catches up at a later pass (a line written twice
                    # is read once).
                    self.failures.failed(self.path, error)
                    return
                self.failures.succeeded(self.path)
            self._ids.update(new)

    def _append(self, new: Mapping[str, str], now_ms: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            for txn_id, reason in new.items():
                line = {"id": txn_id, "reason": reason, "parked_ms": now_ms}
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def items(self) -> list[tuple[str, str]]:
        return list(self._ids.items())


def read_parked(path: Path) -> list[tuple[str, str]]:
    """(id, reason) per parked record; a torn last line (power cut) is skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found: dict[str, str] = {}
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            found.setdefault(str(entry["id"]), str(entry["reason"]))
        except (ValueError, KeyError, TypeError):
            continue
    return list(found.items())
