"""Opening the database: durability settings, corruption check, and numbered migrations."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

from terminal.ledger.errors import (
    LedgerCorrupt,
    LedgerMissing,
    SchemaTooNew,
    read_only,
    translate,
)

# Each entry moves the schema from version N to N+1. Append only; never edit a shipped one.
MIGRATIONS = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    -- One row per record. The signed columns never change (see journal_append_only); the
    -- outbox columns (state .. reason) follow the record through the sync.
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
        jws TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending'
            CHECK (state IN ('pending', 'sending', 'accepted', 'rejected')),
        locked_ms INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        reason TEXT
    );
    CREATE INDEX journal_original ON journal(original_txn) WHERE original_txn IS NOT NULL;
    -- The seen-token set: a token recorded once can never be recorded again.
    CREATE UNIQUE INDEX seen_tokens ON journal(token_id) WHERE token_id IS NOT NULL;
    -- The outbox: records the platform has not accepted. Few rows, so cheap to read.
    CREATE INDEX outbox_open ON journal(state, offline) WHERE state != 'accepted';
    CREATE VIEW outbox AS
        SELECT seq, txn_id, state, offline, amount_won, time_ms AS created_ms, locked_ms,
               attempts, reason
        FROM journal;
    CREATE TRIGGER journal_append_only BEFORE UPDATE OF
        seq, txn_id, kind, method, amount_won, original_txn, time_ms, offline, token_id, hash, jws
        ON journal
    BEGIN
        SELECT RAISE(ABORT, 'journal records are append-only');
    END;
    CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
    BEGIN
        SELECT RAISE(ABORT, 'journal records are append-only');
    END;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path) -> sqlite3.Connection:
    """Opens (creating if absent) and migrates the database; refuses a damaged one.

    The connection may be used from any thread (check_same_thread=False): the Ledger serializes
    every use with its own lock (see terminal/ledger/store.py)."""
    existed = path.exists() and path.stat().st_size > 0
    if not existed:
        refuse_a_lost_journal(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise read_only(path, type(error).__name__) from None
    # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, one transaction per event.
    try:
        connection = sqlite3.connect(
            path, isolation_level=None, timeout=5.0, check_same_thread=False
        )
    except sqlite3.Error as error:
        raise translate(error, path) from None
    try:
        if existed:
            # Before any write (WAL switch, migration): a damaged file stays as it was found.
            check = connection.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise LedgerCorrupt(
                    f"{path} is damaged ({check}); it was left untouched: copy it for "
                    "recovery, then provision a new database"
                )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        migrate(connection)
        if not started_marker(path).exists():  # new, or made before the marker existed
            mark_journal_started(path)
    except sqlite3.Error as error:
        connection.close()
        raise translate(error, path) from None
    except BaseException:
        connection.close()
        raise
    return connection


def started_marker(path: Path) -> Path:
    """Beside the database: says a journal was started here, and when. It outlives a deleted or
    emptied database file, so the loss is noticed instead of a new journal starting at seq 1.
    (Moving a journal aside on purpose, e.g. provisioning's --rekey, moves this too.)"""
    return path.with_name(path.name + ".started")


def refuse_a_lost_journal(path: Path) -> None:
    marker = started_marker(path)
    if not marker.exists():
        return
    try:
        when = json.loads(marker.read_text(encoding="utf-8")).get("started", "?")
    except (OSError, ValueError, AttributeError):
        when = "?"
    raise LedgerMissing(
        f"{path} is missing or empty, but this terminal started its journal there ({when}; "
        f"see {marker}): restore the database from a backup; to start a new journal on "
        "purpose, re-enrol with a new key (scripts/provision --rekey)"
    )


def mark_journal_started(path: Path) -> None:
    marker = started_marker(path)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    try:
        os.write(descriptor, json.dumps({"started": stamp}).encode() + b"\n")
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


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
