"""The simulator's own SQLite database (WAL): schema and the connection everything shares.

Ids a device chooses (transaction, refund ids) are keys per device, never global: another
device cannot take, block or probe them (docs/protocol.md, Transport and identity).

One connection, used only from the server's event loop thread: the simulator is one process and
its handlers never block for long, so there is nothing to lock. WAL with synchronous=NORMAL is
durable against a crash of the simulator (not of the machine), which is what the tests kill.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS codes (
    prefix TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, merchant_id TEXT NOT NULL,
    created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,
    used_ms INTEGER, failures INTEGER NOT NULL DEFAULT 0, device_id TEXT
);
CREATE TABLE IF NOT EXISTS address_failures (address TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS address_failures_by_address ON address_failures (address, at_ms);
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY, serial TEXT NOT NULL, merchant_id TEXT NOT NULL,
    enrolled_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS certificates (
    serial TEXT PRIMARY KEY, device_id TEXT NOT NULL REFERENCES devices,
    pem TEXT NOT NULL, not_after_ms INTEGER NOT NULL, revoked_ms INTEGER
);
CREATE TABLE IF NOT EXISTS records (
    txn_id TEXT NOT NULL, device_id TEXT NOT NULL, seq INTEGER NOT NULL,
    jws TEXT NOT NULL, hash TEXT NOT NULL, prev_hash TEXT NOT NULL,
    kind TEXT NOT NULL, amount INTEGER NOT NULL, received_ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, txn_id), UNIQUE (device_id, seq)
);
CREATE TABLE IF NOT EXISTS settlements (
    device_id TEXT NOT NULL, txn_id TEXT NOT NULL, token_id TEXT NOT NULL,
    wallet_ref TEXT, amount INTEGER NOT NULL, benefits TEXT, flag TEXT,
    settled_ms INTEGER NOT NULL, PRIMARY KEY (device_id, txn_id)
);
CREATE INDEX IF NOT EXISTS settlements_by_flag ON settlements (flag) WHERE flag IS NOT NULL;
CREATE TABLE IF NOT EXISTS charges (
    charge_id TEXT NOT NULL, device_id TEXT NOT NULL, amount INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL,
    created_ms INTEGER NOT NULL, paid_ms INTEGER, receipt TEXT, wallet_ref TEXT,
    benefits TEXT, PRIMARY KEY (device_id, charge_id)
);
CREATE TABLE IF NOT EXISTS stand_payments (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT, payment_id TEXT NOT NULL UNIQUE,
    device_id TEXT NOT NULL, stand TEXT NOT NULL, amount INTEGER NOT NULL,
    paid_ms INTEGER NOT NULL, wallet_ref TEXT NOT NULL, benefits TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stand_payments_by_device ON stand_payments (device_id, cursor);
CREATE TABLE IF NOT EXISTS wallets (
    wallet_ref TEXT PRIMARY KEY, balance INTEGER NOT NULL,
    month TEXT NOT NULL DEFAULT '', city_won INTEGER NOT NULL DEFAULT 0,
    district_won INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
    token_id INTEGER PRIMARY KEY, wallet_ref TEXT NOT NULL REFERENCES wallets,
    issued_s INTEGER NOT NULL, expires_s INTEGER NOT NULL, used_by TEXT
);
CREATE TABLE IF NOT EXISTS authorizations (
    transaction_id TEXT NOT NULL, device_id TEXT NOT NULL, request TEXT NOT NULL,
    answer TEXT NOT NULL, amount INTEGER NOT NULL, approved INTEGER NOT NULL,
    benefits TEXT, PRIMARY KEY (device_id, transaction_id)
);
CREATE TABLE IF NOT EXISTS refunds (
    refund_id TEXT NOT NULL, device_id TEXT NOT NULL, original TEXT NOT NULL,
    request TEXT NOT NULL, answer TEXT NOT NULL, amount INTEGER NOT NULL,
    approved INTEGER NOT NULL, PRIMARY KEY (device_id, refund_id)
);
CREATE INDEX IF NOT EXISTS refunds_by_original ON refunds (device_id, original, approved);
CREATE TABLE IF NOT EXISTS platform_keys (
    kid TEXT PRIMARY KEY, pem TEXT NOT NULL, created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS config_versions (version INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def connect(path: Path) -> sqlite3.Connection:
    """Opens (creating) the database. Autocommit mode: writes that belong together take an
    explicit `with transaction(db)`."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA busy_timeout=5000")
    _rekey_per_device(db)
    db.executescript(SCHEMA)
    return db


# Tables whose ids were global in state directories made before ids were keyed per device.
_PER_DEVICE_KEYS = {
    "records": ["device_id", "txn_id"],
    "authorizations": ["device_id", "transaction_id"],
    "refunds": ["device_id", "refund_id"],
    "charges": ["device_id", "charge_id"],
}


def _rekey_per_device(db: sqlite3.Connection) -> None:
    """Rebuilds an older table keyed by its id alone with the per-device key (same columns)."""
    for table, key in _PER_DEVICE_KEYS.items():
        columns = db.execute(f"PRAGMA table_info({table})").fetchall()
        primary = [row[1] for row in sorted(columns, key=lambda row: row[5]) if row[5]]
        if not columns or primary == key:
            continue
        # One script, one transaction: the old index goes with the old table, SCHEMA makes
        # the new table (and its index), the rows move over unchanged.
        db.executescript(
            f"BEGIN IMMEDIATE; ALTER TABLE {table} RENAME TO {table}_global;"
            f" DROP INDEX IF EXISTS {table}_by_original; {SCHEMA}"
            f" INSERT INTO {table} SELECT * FROM {table}_global; DROP TABLE {table}_global;"
            " COMMIT;"
        )


class transaction:  # lower case: used like a keyword, `with transaction(db):`
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, traceback) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def next_number(db: sqlite3.Connection, name: str) -> int:
    """A counter that never repeats (approval numbers, device ids)."""
    db.execute(
        "INSERT INTO counters (name, value) VALUES (?, 1) "
        "ON CONFLICT (name) DO UPDATE SET value = value + 1",
        (name,),
    )
    return db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0]
