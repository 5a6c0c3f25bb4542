"""The ledger's one SQLite connection and its rules: which threads may use it, one lock around
every use, and the one transaction helper every write goes through (the rules themselves are
explained in terminal/ledger/store.py's docstring, for the Ledger built on this class)."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from terminal.ledger.errors import LedgerMisuse, translate
from terminal.ledger.schema import connect

# The name terminal/scan/worker.py gives its thread; that thread must never call the ledger.
SCAN_WORKER_THREAD = "scan-worker"


def serialized(method):
    """Checks the calling thread, then runs the method holding the ledger's lock."""

    @functools.wraps(method)
    def run(self: SerializedDatabase, *args, **kwargs):
        self._check_caller(method.__name__)
        with self._lock:
            if self._closed:
                raise LedgerMisuse(f"Ledger.{method.__name__} called after close()")
            if self._lost:
                self._reconnect()
            return method(self, *args, **kwargs)

    return run


class SerializedDatabase:
    """One connection (check_same_thread=False) used under one lock, by permitted threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.RLock()
        self._forbidden: set[int] = set()
        self._closed = False
        self._lost = False  # the connection was given up after a failed ROLLBACK
        self._check_caller("open")
        self.db = connect(self.path)  # tests and the benchmark read it; nothing else may

    def _forget(self) -> None:
        """Drops what a subclass cached from the database: called after every failed write."""

    def forbid_thread(self, thread: threading.Thread) -> None:
        """Makes calls from `thread` (e.g. another worker) raise LedgerMisuse."""
        if thread.ident is None:
            raise LedgerMisuse(f"thread {thread.name} has not started: it has no id yet")
        self._forbidden.add(thread.ident)

    def _check_caller(self, action: str) -> None:
        current = threading.current_thread()
        if current.name == SCAN_WORKER_THREAD or current.ident in self._forbidden:
            raise LedgerMisuse(
                f"Ledger.{action} called from thread {current.name!r}, which must not use the "
                "ledger: post an event to the session thread instead"
            )

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self.db.close()

    # --- the one way to write --------------------------------------------------------------

    @contextlib.contextmanager
    def _transaction(self, landed: Callable[[], bool] | None = None) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any failure (a failed COMMIT included);
        sqlite3 errors come out translated. Refuses to run inside a transaction it did not open.

        SQLite can report a COMMIT as failed (interrupted, I/O error) after the commit became
        durable. Then `landed()`, if given, asks the database whether the work is there: a
        record by its txn id, a claim by its rows. Settle and reclaim need no probe: repeating
        them is harmless, so their caller simply repeats them after an error."""
        if self.db.in_transaction:
            raise LedgerMisuse(
                f"{self.path}: a transaction the ledger did not open is active on its "
                "connection; refusing to write inside it (nothing was recorded)"
            )
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            self._abandon()  # a BEGIN can fail after it opened the transaction (interrupted)
            raise translate(error, self.path) from None
        try:
            yield
        except BaseException as error:
            self._abandon()
            if isinstance(error, sqlite3.Error):
                raise translate(error, self.path) from None
            raise
        try:
            self.db.execute("COMMIT")
        except sqlite3.Error as error:
            if not self.db.in_transaction and landed is not None and self._probe(landed):
                return
            self._abandon()
            raise translate(error, self.path) from None

    def _probe(self, landed: Callable[[], bool]) -> bool:
        try:
            return landed()
        except sqlite3.Error:
            return False

    def _abandon(self) -> None:
        self._forget()  # never trust a cache across a failed write
        # SQLite may already have rolled back by itself (after SQLITE_FULL, for one).
        if self.db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("ROLLBACK")
        if self.db.in_transaction:
            # The ROLLBACK failed too (interrupted, I/O error). Closing the connection makes
            # SQLite roll back; a fresh one starts clean. If even that fails, the next call
            # fails in `connect` again rather than writing into a transaction of unknown state.
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
            self._lost = True
            self._reconnect()

    def _reconnect(self) -> None:
        """A fresh connection after one was given up; raises (translated) while that fails."""
        self.db = connect(self.path)
        self._lost = False
        self._forget()

    def _read(self, sql: str, parameters: tuple = ()) -> tuple | None:
        try:
            return self.db.execute(sql, parameters).fetchone()
        except sqlite3.Error as error:
            raise translate(error, self.path) from None
