"""How many records per second the simulator accepts in batches, over HTTPS + mTLS on loopback;
and `signed_records`, a chain of real device-signed records for tests and benches."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from terminal.core.ids import uuid7
from terminal.core.records import GENESIS_HASH, Record, chain_hash
from terminal.signing import DeviceKey
from terminal.sim.platform.client import enroll
from terminal.sim.platform.server import PlatformServer

T0_MS = 1_795_000_000_000


def signed_records(
    key: DeviceKey,
    device_id: str,
    count: int,
    *,
    first_seq: int = 1,
    prev_hash: str = GENESIS_HASH,
    amount: int = 1000,
) -> list[dict]:
    """`count` chained sale records as upload items {id, jws} (and their seq)."""
    items = []
    for n in range(count):
        seq = first_seq + n
        record = Record(
            txn_id=str(uuid7(T0_MS + seq, os.urandom(10))),
            device_id=device_id,
            seq=seq,
            prev_hash=prev_hash,
            kind="sale",
            method="cpm",
            amount_won=amount,
            benefits={"city_won": amount // 10},
            refs={"token_id": str(seq)},
            time_ms=T0_MS + seq * 1000,
            clock_synced=True,
            offline=True,
        )
        jws = key.jws(record.canonical())
        items.append({"id": record.txn_id, "jws": jws, "seq": seq})
        prev_hash = chain_hash(jws)
    return items


@dataclass(frozen=True)
class UploadBench:
    records: int
    batch: int
    seconds: float

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds


def bench_upload(records: int = 4000, batch: int = 500, state_dir: Path | None = None):
    """Starts a simulator, enrolls a device, uploads `records` in batches on one kept-alive
    connection; returns the time the uploads took (signing the records is not counted)."""
    with (
        tempfile.TemporaryDirectory() as folder,
        PlatformServer(state_dir or Path(folder) / "platform") as server,
    ):
        enrolled = enroll(server.url, server.ca_path, server.new_code(), "BENCH-1")
        items = signed_records(enrolled.key, enrolled.device_id, records)
        client = enrolled.client(server.url, server.ca_path)
        started = time.perf_counter()
        for start in range(0, records, batch):
            chunk = [{"id": i["id"], "jws": i["jws"]} for i in items[start : start + batch]]
            answer = client.request("POST", "/v1/transactions", {"records": chunk})
            statuses = {r["status"] for r in answer.json()["results"]}
            if answer.status != 200 or statuses != {"accepted"}:
                raise RuntimeError(f"upload failed: {answer.status} {statuses}")
        seconds = time.perf_counter() - started
        client.close()
        if server.errors:
            raise RuntimeError(f"the simulator failed: {server.errors[0]}")
    return UploadBench(records, batch, seconds)


if __name__ == "__main__":
    result = bench_upload()
    print(
        f"simulator accepted {result.records} records in batches of {result.batch}: "
        f"{result.records_per_second:,.0f} records/s"
    )
