"""Payments to the printed QR stand (고정형): the sync thread fetches them after a cursor and
hands them to the app, which records each as a sale and then acknowledges its cursor. Only an
acknowledged cursor is kept on disk, so a payment handed over but not recorded (a crash, a
ledger error) is fetched again; the app skips one it has already recorded (by payment id)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from terminal.sync.answers import StandPayment
from terminal.sync.files import WriteFailures, save_quietly

log = logging.getLogger(__name__)
PAGE = 100
MAX_PAGES = 10  # per pass: a backlog beyond 1000 payments continues at the next pass


class StandFeed:
    """Cursor keeping for stand payments. `deliver(payments)` is set by the app and is called
    on the sync thread; `acknowledge` and `retry` are called from the app's thread."""

    def __init__(self, path: Path | None, deliver: Callable[[tuple], None] | None = None):
        self.path = path
        self.deliver = deliver
        self._lock = threading.Lock()
        self.failures = WriteFailures("stand cursor")
        self.acknowledged = self._load()
        self.handed = self.acknowledged  # the highest cursor handed to the app this run

    def _load(self) -> int:
        if self.path is None:
            return 0
        try:
            cursor = json.loads(self.path.read_text(encoding="utf-8"))["after"]
        except FileNotFoundError:
            return 0
        except (OSError, ValueError, KeyError, TypeError) as error:
            # Starting from 0 costs a re-fetch; the app skips what it already recorded.
            log.warning(
                "stand cursor %s unreadable (%s): fetching from the start", self.path, error
            )
            return 0
        return cursor if isinstance(cursor, int) and cursor >= 0 else 0

    def fetch(self, client) -> int:
        """One pass: payments after what was handed over go to `deliver`. Returns how many."""
        if self.deliver is None:
            return 0
        count = 0
        for _ in range(MAX_PAGES):
            with self._lock:
                after = self.handed
            payments, next_cursor = client.stand_payments(after, PAGE)
            if not payments:
                break
            with self._lock:
                if self.handed != after:  # a retry() reset us meanwhile: fetch again next pass
                    break
                self.handed = next_cursor
            self.deliver(payments)
            count += len(payments)
            if len(payments) < PAGE:
                break
        return count

    def acknowledge(self, payments: tuple[StandPayment, ...]) -> None:
        """These payments are in the ledger: never fetch them again."""
        cursor = max((p.cursor for p in payments), default=0)
        with self._lock:
            if cursor <= self.acknowledged:
                return
            self.acknowledged = cursor
            self._save(cursor)

    def retry(self) -> None:
        """Recording failed: hand over again, from the last acknowledged cursor."""
        with self._lock:
            self.handed = self.acknowledged

    def _save(self, cursor: int) -> None:
        """Best effort: a cursor the disk refused (full, read-only) only costs a re-fetch after
        a restart, and the app skips payments it already recorded; the next acknowledgement
        writes it again."""
        if self.path is not None:
            save_quietly(self.path, json.dumps({"after": cursor}), self.failures)
