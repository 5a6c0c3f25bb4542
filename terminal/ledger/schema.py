"""Opening the database: durability settings, corruption check, and numbered migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from terminal.ledger.errors import LedgerCorrupt, LedgerReadOnly, SchemaTooNew

# Each entry moves the schema from version N to N+1. Append only; never edit a shipped one.
MIGRATIONS = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE journal (
        seq INTEGER PRIMARY KEY,
        txn_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        method TEXT,
        amount_won INTEGER NOT NULL,
        original_txn TEXT,
        time_ms INTEGER NOT NULL,
        offline INTEGER NOT NULL,
        token_id TEXT,
        hash TEXT NOT NULL,
        jws TEXT NOT NULL
    );
    CREATE INDEX journal_original ON journal(original_txn) WHERE original_txn IS NOT NULL;
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY REFERENCES journal(seq),
        txn_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'accepted', 'rejected')),
        offline INTEGER NOT NULL,
        amount_won INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        locked_ms INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        reason TEXT
    );
    -- Rows the platform has not accepted: few, and what the offline totals and sync read.
    CREATE INDEX outbox_open ON outbox(state, offline) WHERE state != 'accepted';
    CREATE TABLE seen_tokens (
        token_id TEXT PRIMARY KEY,
        txn_id TEXT NOT NULL,
        seen_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    -- Queueing a record and remembering its token happen inside the INSERT of the record
    -- itself: one statement, one transaction, nothing for the application to forget.
    CREATE TRIGGER journal_queue AFTER INSERT ON journal BEGIN
        INSERT INTO outbox (seq, txn_id, state, offline, amount_won, created_ms)
        VALUES (NEW.seq, NEW.txn_id, 'pending', NEW.offline, NEW.amount_won, NEW.time_ms);
        INSERT INTO seen_tokens (token_id, txn_id, seen_ms)
        SELECT NEW.token_id, NEW.txn_id, NEW.time_ms WHERE NEW.token_id IS NOT NULL;
    END;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path) -> sqlite3.Connection:
    """Opens (creating if absent) and migrates the database; refuses a damaged one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists() and path.stat().st_size > 0
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, one transaction per event.
    connection = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    try:
        if existed:
            check = connection.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(check)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        migrate(connection)
    except sqlite3.DatabaseError as error:
        connection.close()
        message = str(error)
        if "readonly" in message or "read-only" in message:
            raise LedgerReadOnly(f"{path}: {message}") from None
        raise LedgerCorrupt(
            f"{path} is damaged ({message}); it was left untouched: copy it for recovery, "
            "then provision a new database"
        ) from None
    return connection


def migrate(connection: sqlite3.Connection) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"database schema {version} is newer than this software's {SCHEMA_VERSION}"
        )
    for number in range(version, SCHEMA_VERSION):
        # One script per migration, inside its own transaction (the script holds triggers, so
        # it cannot be split on semicolons); a failure leaves the previous version intact.
        try:
            script = MIGRATIONS[number]
            connection.executescript(
                f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number + 1}; COMMIT;"
            )
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
