"""Read-only health of the terminal's database for selftest and diagnostics: integrity
(`quick_check`), outbox depth and age, parked records, counts by state and the last sequence
number. Never writes, never migrates: safe to run beside the running terminal."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from terminal.ledger.reader import read_only_hint, writable


class DatabaseUnreadable(Exception):
    """The database file is missing, unreadable, not SQLite, damaged, or not a terminal ledger."""


@dataclass(frozen=True)
class LedgerHealth:
    quick_check: str  # "ok", or SQLite's first complaint
    schema_version: int
    last_seq: int  # 0 for an empty journal
    by_state: dict[str, int] = field(default_factory=dict)  # outbox state → records
    by_kind: dict[str, int] = field(default_factory=dict)  # sale/refund/void/close → records
    pending: int = 0  # pending or sending: not yet accepted by the platform
    oldest_pending_ms: int | None = None  # record time of the oldest of those
    parked: int = 0  # rejected by the platform: an operator must look at them
    parked_reasons: dict[str, int] = field(default_factory=dict)
    last_close_ms: int | None = None
    since_close: int = 0  # records after the last day close: the day is open when > 0

    @property
    def intact(self) -> bool:
        return self.quick_check == "ok"


def check_database(path: Path) -> LedgerHealth:
    """Opens `path` read-only, runs quick_check and reads the outbox statistics."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseUnreadable(f"{path}: no database (the terminal has not started yet?)")
    try:
        # Not reader.open_read_only: that refuses a damaged file, where the health check must
        # come back with quick_check's complaint for selftest and diagnostics to show.
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise _unreadable(path, f"cannot open ({error})") from None
    try:
        return _read(connection)
    except sqlite3.Error as error:
        raise _unreadable(path, str(error)) from None
    finally:
        connection.close()


def _unreadable(path: Path, detail: str) -> DatabaseUnreadable:
    if not writable(path.parent):
        # The usual cause: a WAL reader needs -wal and -shm files it may not create here.
        detail = (
            f"not read: {read_only_hint(path.parent)} ({detail}); run as the terminal's user, "
            "or read a copy"
        )
    return DatabaseUnreadable(f"{path}: {detail}")


def _read(connection: sqlite3.Connection) -> LedgerHealth:
    check = connection.execute("PRAGMA quick_check").fetchone()[0]
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if check != "ok":
        return LedgerHealth(quick_check=check, schema_version=version, last_seq=0)
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    if "journal" not in tables:
        raise sqlite3.DatabaseError("not a terminal ledger (no journal table)")
    last_seq = connection.execute("SELECT COALESCE(MAX(seq), 0) FROM journal").fetchone()[0]
    by_state = dict(connection.execute("SELECT state, COUNT(*) FROM journal GROUP BY state"))
    by_kind = dict(connection.execute("SELECT kind, COUNT(*) FROM journal GROUP BY kind"))
    pending, oldest = connection.execute(
        "SELECT COUNT(*), MIN(time_ms) FROM journal WHERE state IN ('pending', 'sending')"
    ).fetchone()
    reasons = dict(
        connection.execute(
            "SELECT COALESCE(reason, '?'), COUNT(*) FROM journal WHERE state = 'rejected' "
            "GROUP BY reason"
        )
    )
    last_close, close_seq = connection.execute(
        "SELECT MAX(time_ms), COALESCE(MAX(seq), 0) FROM journal WHERE kind = 'close'"
    ).fetchone()
    return LedgerHealth(
        quick_check=check,
        schema_version=version,
        last_seq=last_seq,
        by_state=by_state,
        by_kind=by_kind,
        pending=pending,
        oldest_pending_ms=oldest,
        parked=sum(reasons.values()),
        parked_reasons=reasons,
        last_close_ms=last_close,
        since_close=last_seq - close_seq,
    )
