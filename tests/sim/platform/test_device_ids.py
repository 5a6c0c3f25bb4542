"""Ids a device chooses are keyed per device at the platform (review finding 5): another enrolled
device that learns an id (a receipt QR shows the transaction id) cannot squat it, block the
genuine record, or find out that it exists."""

from __future__ import annotations

import os
import sqlite3
import time
import uuid

from terminal.core.ids import uuid7
from terminal.sim.platform import db as database
from terminal.sim.platform.wallets import balance, issue_token, open_wallet

from .chain import Chain
from .conftest import make_device


def _txn() -> str:
    return str(uuid7(int(time.time() * 1000), os.urandom(10)))


def test_a_record_id_uploaded_first_by_another_device_does_not_refuse_the_genuine_record(server):
    victim, squatter = make_device(server, "SERIAL-V"), make_device(server, "SERIAL-S")
    txn_id = _txn()
    squatter_chain = Chain(squatter)
    squat = squatter_chain.upload(squatter_chain.record(txn_id=txn_id, amount_won=1))[0]
    assert squat["status"] == "accepted"  # its own record, under its own device
    genuine_chain = Chain(victim)
    genuine = genuine_chain.record(txn_id=txn_id, amount_won=12_000)
    [result] = genuine_chain.upload(genuine)
    assert (result["status"], result["seq"]) == ("accepted", 1)
    assert genuine_chain.upload(genuine)[0]["status"] == "duplicate"
    stored = server.call(
        lambda p: p.db.execute(
            "SELECT device_id, amount FROM records WHERE txn_id = ? ORDER BY device_id", (txn_id,)
        ).fetchall()
    )
    assert sorted(stored) == sorted([(victim.device_id, 12_000), (squatter.device_id, 1)])
    victim.client.close()
    squatter.client.close()


def test_authorization_and_refund_ids_of_another_device_neither_conflict_nor_leak(server):
    a, b = make_device(server, "SERIAL-A"), make_device(server, "SERIAL-B")
    wallet = server.call(open_wallet, 100_000)
    txn_id = _txn()
    body = {"transaction_id": txn_id, "format": "qr", "amount": 5_000}
    token_a, token_b = (server.call(issue_token, wallet).qr_text for _ in "ab")
    first = a.post("/v1/authorizations", body | {"token": token_a})
    assert first.json()["status"] == "approved"
    # B reuses A's id with its own token: a transaction of B's, not a 409 that says it exists.
    second = b.post("/v1/authorizations", body | {"token": token_b})
    assert second.status == 200 and second.json()["status"] == "approved"
    assert server.call(balance, wallet) == 100_000 - 2 * (5_000 - 550)
    refund_id = str(uuid.uuid4())
    refund = {"refund_id": refund_id, "original_transaction_id": txn_id, "amount": 5_000}
    assert b.post("/v1/refunds", refund).json()["status"] == "approved"
    # A's refund under the same id is A's own, bounded by A's sale alone.
    answer = a.post("/v1/refunds", refund)
    assert answer.status == 200 and answer.json()["status"] == "approved"
    assert a.post("/v1/refunds", refund | {"refund_id": str(uuid.uuid4())}).json()["reason"] == (
        "exceeds_remaining"
    )
    a.client.close()
    b.client.close()


def test_a_state_directory_with_global_ids_is_rekeyed_per_device(tmp_path):
    path = tmp_path / "platform.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE records (txn_id TEXT PRIMARY KEY, device_id TEXT NOT NULL,"
        " seq INTEGER NOT NULL, jws TEXT NOT NULL, hash TEXT NOT NULL, prev_hash TEXT NOT NULL,"
        " kind TEXT NOT NULL, amount INTEGER NOT NULL, received_ms INTEGER NOT NULL,"
        " UNIQUE (device_id, seq));"
        "CREATE TABLE refunds (refund_id TEXT PRIMARY KEY, device_id TEXT NOT NULL,"
        " original TEXT NOT NULL, request TEXT NOT NULL, answer TEXT NOT NULL,"
        " amount INTEGER NOT NULL, approved INTEGER NOT NULL);"
        "CREATE INDEX refunds_by_original ON refunds (original, approved);"
        "INSERT INTO records VALUES ('T1', 'SIM-1', 1, 'j', 'h', 'p', 'sale', 100, 0);"
    )
    old.commit()
    old.close()
    db = database.connect(path)
    db.execute("INSERT INTO records VALUES ('T1', 'SIM-2', 1, 'j', 'h', 'p', 'sale', 7, 0)")
    assert db.execute("SELECT device_id, amount FROM records ORDER BY device_id").fetchall() == [
        ("SIM-1", 100),
        ("SIM-2", 7),
    ]
    columns = db.execute("PRAGMA index_info(refunds_by_original)").fetchall()
    assert [c[2] for c in columns] == ["device_id", "original", "approved"]
    db.close()
