"""How many records per second the simulator accepts, over HTTPS + mTLS on loopback with every
request and response checked against the spec; and `signed_records`, a chain of real
device-signed records for tests and benches.

`scripts/bench platform` (or `python -m terminal.sim.platform.bench`) prints records/s for
batches of 500 and of 50 against one record per request on a kept-alive connection (the
baseline) and against the platform's own upload code called in-process (no HTTP, no spec
check): contestants shuffled each round, a fresh device per run, medians of the rounds.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from terminal.core.ids import uuid7
from terminal.core.records import GENESIS_HASH, Record, chain_hash
from terminal.signing import DeviceKey
from terminal.sim.platform.client import enroll
from terminal.sim.platform.server import PlatformServer

T0_MS = 1_795_000_000_000
TARGET_RECORDS_PER_SECOND = 2_000  # issue 10: the simulator must carry the fleet simulation


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


def _over_https(server: PlatformServer, records: int, batch: int) -> float:
    """Seconds to upload `records` fresh records of a new device in batches of `batch`."""
    enrolled = enroll(server.url, server.ca_path, server.new_code(), "BENCH")
    items = [
        {"id": i["id"], "jws": i["jws"]}
        for i in signed_records(enrolled.key, enrolled.device_id, records)
    ]
    client = enrolled.client(server.url, server.ca_path)
    client.request("GET", "/v1/keys")  # the TLS handshake is not what we measure
    started = time.perf_counter()
    for start in range(0, records, batch):
        answer = client.request(
            "POST", "/v1/transactions", {"records": items[start : start + batch]}
        )
        if answer.status != 200 or {r["status"] for r in answer.json()["results"]} != {"accepted"}:
            raise RuntimeError(f"upload failed: {answer.status} {answer.body[:200]!r}")
    seconds = time.perf_counter() - started
    client.close()
    return seconds


def _in_process(server: PlatformServer, records: int, batch: int) -> float:
    """The same work without HTTP, TLS or the spec check: the platform's upload code alone."""
    from terminal.sim.platform.state import Device
    from terminal.sim.platform.transactions import upload

    enrolled = enroll(server.url, server.ca_path, server.new_code(), "BENCH")
    items = [
        {"id": i["id"], "jws": i["jws"]}
        for i in signed_records(enrolled.key, enrolled.device_id, records)
    ]
    device = Device(enrolled.device_id, "", "", enrolled.key.public_key, 0)

    def run(platform) -> float:
        started = time.perf_counter()
        for start in range(0, records, batch):
            upload(platform, device, items[start : start + batch])
        return time.perf_counter() - started

    return server.call(run)


CONTESTANTS = {
    "batches of 500, HTTPS": (_over_https, 2000, 500),
    "batches of 50, HTTPS": (_over_https, 1000, 50),
    "1 per request, HTTPS (baseline)": (_over_https, 200, 1),
    "batches of 500, in-process": (_in_process, 2000, 500),
}
BASELINE = "1 per request, HTTPS (baseline)"


def bench_platform(rounds: int = 3, scale: float = 1.0) -> dict[str, float]:
    """Median records/s of each contestant; prints the table. `scale` shrinks the record
    counts (tests run it small)."""
    rates: dict[str, list[float]] = {name: [] for name in CONTESTANTS}
    with (
        tempfile.TemporaryDirectory() as folder,
        PlatformServer(Path(folder) / "platform", admin_port=None) as server,
    ):
        for _ in range(rounds):
            order = list(CONTESTANTS)
            random.shuffle(order)
            for name in order:
                run, records, batch = CONTESTANTS[name]
                records = max(batch, int(records * scale))
                rates[name].append(records / run(server, records, batch))
        if server.errors:
            raise RuntimeError(f"the simulator failed: {server.errors[0]}")
    medians = {name: statistics.median(values) for name, values in rates.items()}
    base = medians[BASELINE]
    print("\n## platform: records/s the simulator accepts (mTLS on loopback, spec-checked)")
    print(f"{rounds} round(s), shuffled; records/s is the median of the rounds")
    print(f"{'contestant':34} {'records/s':>10} {'× baseline':>11}")
    for name, value in medians.items():
        print(f"{name:34} {value:10,.0f} {value / base:11.1f}")
    best = medians["batches of 500, HTTPS"]
    verdict = "ok" if best >= TARGET_RECORDS_PER_SECOND else "MISSED"
    print(f"target: ≥ {TARGET_RECORDS_PER_SECOND:,} records/s in batches: {best:,.0f} ({verdict})")
    return medians


def bench_upload(records: int = 4000, batch: int = 500) -> float:
    """Records/s of one upload run in batches (for other benches that need just the number)."""
    with (
        tempfile.TemporaryDirectory() as folder,
        PlatformServer(Path(folder) / "platform", admin_port=None) as server,
    ):
        return records / _over_https(server, records, batch)


if __name__ == "__main__":
    bench_platform()
