"""POST /v1/transactions: signed records in batches, idempotent forever by id, with per-device
chain and counter checks. A gap is held (stored, `chain: held`), a fork is rejected: see
docs/protocol.md §Upload for why. Ids are keyed per device. Offline CPM sales are settled as they
are stored (settlement.py)."""

from __future__ import annotations

import sqlite3

from aiohttp import web

from terminal.core.records import GENESIS_HASH, Record, RecordError, chain_hash, record_from_json
from terminal.signing import JwsError, jws_verify, key_id
from terminal.sim.platform import stands
from terminal.sim.platform.auth import device
from terminal.sim.platform.db import transaction
from terminal.sim.platform.settlement import flag_of, is_offline_cpm_sale, settle_offline_sale
from terminal.sim.platform.state import PLATFORM, Device, Platform
from terminal.sim.platform.validation import BODY

routes = web.RouteTableDef()


class _Rejected(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _verify(jws: str, keys: dict, txn_id: str, device_id: str) -> Record:
    try:
        _, payload = jws_verify(jws, keys)
    except JwsError as error:
        text = str(error)
        reason = "bad_signature" if ("key id" in text or "verify" in text) else "malformed"
        raise _Rejected(reason, text) from None
    try:
        record = record_from_json(payload)
    except RecordError as error:
        raise _Rejected("malformed", str(error)) from None
    if record.txn_id != txn_id:
        raise _Rejected("id_mismatch", f"the signed record's txn_id is {record.txn_id}")
    if record.device_id != device_id:
        raise _Rejected("wrong_device", f"the record names device {record.device_id}")
    return record


def _stand_check(platform: Platform, device_id: str, record: Record) -> None:
    """A record whose id is a payment to this device's stand must be that payment: a sale
    (MPM) of its amount naming its stand. Its id makes it the payment's one record, so the
    platform never counts a stand payment twice (the payment, and the sale uploaded for it)."""
    payment = stands.stand_payment(platform, device_id, record.txn_id)
    if payment is None:
        return
    found = (record.kind, record.method, record.amount_won, record.refs.get("charge_id"))
    wanted = ("sale", "mpm", payment["amount"], payment["stand"])
    if found != wanted:
        raise _Rejected("stand_mismatch", f"the stand payment is {wanted}, the record {found}")


def _chain(db: sqlite3.Connection, device_id: str, record: Record, jws: str) -> str:
    """'linked' or 'held'; raises _Rejected for a record that forks the stored chain."""
    taken = db.execute(
        "SELECT txn_id FROM records WHERE device_id = ? AND seq = ?", (device_id, record.seq)
    ).fetchone()
    if taken is not None:
        raise _Rejected("seq_reused", f"seq {record.seq} already holds transaction {taken[0]}")
    after = db.execute(
        "SELECT prev_hash FROM records WHERE device_id = ? AND seq = ?", (device_id, record.seq + 1)
    ).fetchone()
    if after is not None and after[0] != chain_hash(jws):
        raise _Rejected("chain_broken", f"the stored seq {record.seq + 1} points elsewhere")
    if record.seq == 1:
        if record.prev_hash != GENESIS_HASH:
            raise _Rejected("chain_broken", "the first record must carry the genesis hash")
        return "linked"
    before = db.execute(
        "SELECT hash FROM records WHERE device_id = ? AND seq = ?", (device_id, record.seq - 1)
    ).fetchone()
    if before is None:
        return "held"
    if before[0] != record.prev_hash:
        raise _Rejected("chain_broken", f"prev_hash is not the hash of stored seq {record.seq - 1}")
    return "linked"


def _chain_state(db: sqlite3.Connection, device_id: str, seq: int) -> str:
    if seq == 1:
        return "linked"
    before = db.execute(
        "SELECT 1 FROM records WHERE device_id = ? AND seq = ?", (device_id, seq - 1)
    ).fetchone()
    return "linked" if before else "held"


def _flagged(result: dict, flag: str | None) -> dict:
    """A stored offline sale the platform could not settle says why, on every answer about it."""
    return result if flag is None else result | {"flag": flag}


def upload(platform: Platform, caller: Device, items: list[dict]) -> list[dict]:
    """One result per item, in order; all stored in one transaction."""
    db, now = platform.db, platform.clock.now_ms()
    keys = {key_id(k): k for k in platform.device_keys(caller.device_id)}
    marks = ",".join("?" * len(items))
    # Ids are the caller's own: another device's record with the same id is another record.
    stored = {
        row[0]: row[1:]
        for row in db.execute(
            f"SELECT txn_id, jws, seq FROM records WHERE device_id = ? AND txn_id IN ({marks})",
            [caller.device_id, *(item["id"] for item in items)],
        )
    }
    results = []
    with transaction(db):
        for item in items:
            txn_id, jws = item["id"], item["jws"]
            if txn_id in stored:
                old_jws, seq = stored[txn_id]
                if old_jws == jws:
                    chain = _chain_state(db, caller.device_id, seq)
                    duplicate = {"id": txn_id, "status": "duplicate", "seq": seq, "chain": chain}
                    results.append(_flagged(duplicate, flag_of(platform, caller.device_id, txn_id)))
                else:
                    results.append(
                        {
                            "id": txn_id,
                            "status": "conflict",
                            "reason": "conflict",
                            "detail": "this id is stored with other bytes",
                        }
                    )
                continue
            try:
                record = _verify(jws, keys, txn_id, caller.device_id)
                _stand_check(platform, caller.device_id, record)
                chain = _chain(db, caller.device_id, record, jws)
            except _Rejected as rejected:
                results.append(
                    {
                        "id": txn_id,
                        "status": "rejected",
                        "reason": rejected.reason,
                        "detail": rejected.detail,
                    }
                )
                continue
            db.execute(
                "INSERT INTO records (txn_id, device_id, seq, jws, hash, prev_hash, kind, amount,"
                " received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    txn_id,
                    caller.device_id,
                    record.seq,
                    jws,
                    chain_hash(jws),
                    record.prev_hash,
                    record.kind,
                    record.amount_won,
                    now,
                ),
            )
            flag = None
            if is_offline_cpm_sale(record):
                flag = settle_offline_sale(platform, caller.device_id, record)
            stored[txn_id] = (jws, record.seq)
            accepted = {"id": txn_id, "status": "accepted", "seq": record.seq, "chain": chain}
            results.append(_flagged(accepted, flag))
    return results


def held_seqs(platform: Platform, device_id: str) -> list[int]:
    """Sequence numbers stored without their predecessor: the gaps an operator should see."""
    rows = platform.db.execute(
        "SELECT r.seq FROM records r WHERE r.device_id = ? AND r.seq > 1 AND NOT EXISTS "
        "(SELECT 1 FROM records p WHERE p.device_id = r.device_id AND p.seq = r.seq - 1) "
        "ORDER BY r.seq",
        (device_id,),
    ).fetchall()
    return [row[0] for row in rows]


@routes.post("/v1/transactions")
async def post_transactions(request: web.Request) -> web.Response:
    results = upload(request.app[PLATFORM], device(request), request[BODY]["records"])
    return web.json_response({"results": results})
