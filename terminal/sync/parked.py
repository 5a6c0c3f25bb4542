"""The operator's list of records the platform refused for good: one JSON line per record with
the platform's reason. The ledger keeps the record itself (state 'rejected', never deleted);
this list is what `qr-terminal sync status` shows and counts without opening the journal."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path


class ParkedList:
    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {}
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
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as handle:
                    for txn_id, reason in new.items():
                        line = {"id": txn_id, "reason": reason, "parked_ms": now_ms}
                        handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
            self._ids.update(new)

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
