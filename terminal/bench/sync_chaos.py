"""`scripts/chaos sync`: the sync's long fault run. The app thread records sales while the sync
worker thread drains them to the real platform simulator (HTTPS + mTLS on 127.0.0.1), which
drops requests, drops replies after committing, answers 503 with Retry-After and cuts bodies
off. Afterwards the platform must hold exactly the records the terminal committed: none lost,
none twice, none changed; and no ledger error may have reached the app thread.

It lives with the benchmarks because it starts the simulator: product modules (terminal/sync)
never import terminal.sim (tests/test_layering.py).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from terminal.core.benefits import Benefits
from terminal.core.offline import ClockState
from terminal.ledger.errors import LedgerError
from terminal.ledger.store import Ledger
from terminal.signing import DeviceKey
from terminal.sim.platform.faults import Fault
from terminal.sim.platform.server import PlatformServer
from terminal.sync.backoff import SystemClock
from terminal.sync.client import PlatformClient, enroll
from terminal.sync.status import StatusBoard
from terminal.sync.transport import Timeouts, TlsFiles
from terminal.sync.worker import SyncSettings, SyncWorker

T0 = 1_795_000_000_000


def run(folder: Path, records: int, seed: int, rates: dict[str, float]) -> int:
    server = PlatformServer(folder / "platform", admin_port=None).start()
    try:
        return _run(server, folder, records, seed, rates)
    finally:
        server.stop()


def _enroll(server: PlatformServer, folder: Path) -> tuple[str, DeviceKey, TlsFiles]:
    key = DeviceKey.generate()
    enrolled = enroll(server.url, server.ca_path, server.new_code(), key.csr("CHAOS"))
    key.save(folder / "device.key")
    (folder / "device.crt").write_text(enrolled.certificate)
    (folder / "ca.pem").write_text("".join(enrolled.ca_chain))
    return (
        enrolled.device_id,
        key,
        TlsFiles(folder / "ca.pem", folder / "device.crt", folder / "device.key"),
    )


def _run(server, folder: Path, records: int, seed: int, rates: dict[str, float]) -> int:
    device_id, key, tls = _enroll(server, folder)
    ledger = Ledger(folder / "terminal.db", key, device_id)
    client = PlatformClient.connect(server.url, tls, Timeouts(2, 5))
    worker = SyncWorker(
        ledger,
        client,
        device_id=device_id,
        settings=SyncSettings(
            interval_seconds=0.2,
            batch_size=50,
            backoff_initial_seconds=0.02,
            backoff_max_seconds=0.5,
            probe_seconds=0.05,
            config_seconds=1e9,
            time_seconds=1e9,
        ),
        clock=SystemClock(),
        rng=random.Random(seed),
        status=StatusBoard(),
    )
    server.faults.set(
        Fault("drop_request", rate=rates["drop_request"], path="/v1/transactions"),
        Fault("drop_reply", rate=rates["drop_reply"], path="/v1/transactions"),
        Fault("unavailable_503", rate=rates["unavailable"], path="/v1/transactions", seconds=1),
        Fault("close_mid_body", rate=rates["close_mid_body"], path="/v1/transactions"),
        seed=seed,
    )
    committed: dict[str, str] = {}
    app_errors: list[str] = []
    started = time.monotonic()
    worker.start()
    try:
        for n in range(records):  # the app thread: one sale after another, the sync beside it
            clock = ClockState(T0 + n * 1000, True, T0)
            try:
                recorded = ledger.record_sale(
                    amount_won=1000 + n % 50_000,
                    method="mpm",
                    benefits=Benefits(10, 5, 1),
                    clock=clock,
                    offline=False,
                )
            except LedgerError as error:
                app_errors.append(str(error))
                continue
            committed[recorded.record.txn_id] = recorded.jws
            if n % 20 == 0:
                worker.wake()
            if n % 1000 == 999:
                print(f"  {n + 1:,} sales recorded, {ledger.queue()[0]:,} queued", flush=True)
    finally:
        worker.stop(timeout=60)
    fired = dict(server.faults.fired)
    server.faults.clear()
    for _ in range(1000):  # bounded: the faults are off, a few passes finish the drain
        if ledger.queue()[0] == 0:
            break
        worker.cycle()
    held = server.call(
        lambda platform: dict(
            platform.db.execute(
                "SELECT txn_id, jws FROM records WHERE device_id = ?", (device_id,)
            ).fetchall()
        )
    )
    left = ledger.queue()[0]
    ledger.close()
    client.close()
    return _report(committed, held, worker, fired, app_errors, left, time.monotonic() - started)


def _report(committed, held, worker, fired, app_errors, left, seconds) -> int:
    lost = [txn for txn in committed if txn not in held]
    extra = [txn for txn in held if txn not in committed]
    changed = [txn for txn in committed if txn in held and held[txn] != committed[txn]]
    totals = worker.totals
    print(f"committed by the terminal: {len(committed):,} in {seconds:.0f} s")
    print(f"held by the platform:      {len(held):,}")
    print(
        f"requests: {totals.requests:,}; records sent {totals.sent:,}; accepted {totals.accepted:,}"
        f" ({totals.duplicate:,} answered duplicate after a lost reply); parked {totals.parked}"
    )
    print("faults fired: " + ", ".join(f"{k} {v:,}" for k, v in sorted(fired.items())))
    print(
        f"lost {len(lost)}, doubled or unknown {len(extra)}, changed {len(changed)}, "
        f"still queued {left}, ledger errors in the app thread {len(app_errors)}"
    )
    problems = lost or extra or changed or left or app_errors or totals.parked
    problems = problems or len(held) != len(committed) or not fired.get("drop_reply")
    print("FAILED" if problems else "ok")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/chaos sync", description=__doc__)
    parser.add_argument("--records", type=int, default=10_000, help="sales to record (10000)")
    parser.add_argument("--seed", type=int, default=1, help="fault and jitter seed")
    parser.add_argument("--drop-request", type=float, default=0.3)
    parser.add_argument("--drop-reply", type=float, default=0.1)
    parser.add_argument("--unavailable", type=float, default=0.05, help="503 rate")
    parser.add_argument("--close-mid-body", type=float, default=0.02)
    args = parser.parse_args(argv)
    if args.records < 1:
        parser.error(f"--records {args.records}: give at least 1")
    rates = {
        "drop_request": args.drop_request,
        "drop_reply": args.drop_reply,
        "unavailable": args.unavailable,
        "close_mid_body": args.close_mid_body,
    }
    for name, rate in rates.items():
        if not 0 <= rate <= 0.9:
            parser.error(f"--{name.replace('_', '-')} {rate}: give a rate between 0 and 0.9")
    print(
        f"sync chaos: {args.records:,} sales; drop request {args.drop_request:.0%}, drop reply "
        f"{args.drop_reply:.0%}, 503 {args.unavailable:.0%}, cut body {args.close_mid_body:.0%}"
    )
    with tempfile.TemporaryDirectory(prefix="chaos-sync-") as folder:
        return run(Path(folder), args.records, args.seed, rates)


if __name__ == "__main__":
    sys.exit(main())
