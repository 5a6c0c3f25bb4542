"""Signed records a test device writes one after another, chained like the terminal's ledger."""

from __future__ import annotations

import os
import time

from terminal.core.ids import uuid7
from terminal.core.records import GENESIS_HASH, Record, chain_hash


class Chain:
    """The next records of one device: each call signs a record linked to the one before."""

    def __init__(self, device):
        self.device, self.seq, self.prev_hash = device, 0, GENESIS_HASH

    def record(self, *, txn_id: str | None = None, time_ms: int | None = None, **fields) -> dict:
        self.seq += 1
        time_ms = int(time.time() * 1000) if time_ms is None else time_ms
        values = {
            "kind": "sale",
            "method": "cpm",
            "amount_won": 1_000,
            "benefits": {},
            "refs": {},
            "clock_synced": True,
            "offline": True,
        } | fields
        record = Record(
            txn_id=txn_id or str(uuid7(time_ms, os.urandom(10))),
            device_id=self.device.device_id,
            seq=self.seq,
            prev_hash=self.prev_hash,
            time_ms=time_ms,
            **values,
        )
        jws = self.device.key.jws(record.canonical())
        self.prev_hash = chain_hash(jws)
        return {"id": record.txn_id, "jws": jws}

    def offline_sale(self, token_id: int | str, amount: int, **fields) -> dict:
        return self.record(amount_won=amount, refs={"token_id": str(token_id)}, **fields)

    def upload(self, *items: dict) -> list[dict]:
        answer = self.device.post("/v1/transactions", {"records": list(items)})
        assert answer.status == 200, answer.body
        return answer.json()["results"]
