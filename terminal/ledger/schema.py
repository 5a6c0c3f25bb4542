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
        hash TEXT NOT NULL,
        jws TEXT NOT NULL
    );
    CREATE INDEX journal_original ON journal(original_txn) WHERE original_txn IS NOT NULL;
    CREATE TABLE outbox (
        txn_id TEXT PRIMARY KEY REFERENCES journal(txn_id),
        seq INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'accepted', 'rejected')),
        offline INTEGER NOT NULL,
        amount_won INTEGER NOT NULL,
        created_ms INTEGER NOT NULL,
        locked_ms INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        reason TEXT
    );
    CREATE INDEX outbox_state ON outbox(state, seq);
    CREATE TABLE seen_tokens (
        token_id TEXT PRIMARY KEY,
        txn_id TEXT NOT NULL,
        seen_ms INTEGER NOT NULL
    );
    CREATE TABLE offline_totals (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        total_won INTEGER NOT NULL,
        count INTEGER NOT NULL
    );
    INSERT INTO offline_totals VALUES (1, 0, 0);
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
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number + 1}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
