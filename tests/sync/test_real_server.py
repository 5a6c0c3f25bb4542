"""Sync against the real simulator over HTTPS + mTLS: upload, exactly once through the
simulator's own faults, a SIGKILL between send and settle, and the online calls."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap

from terminal.core.benefits import Benefits
from terminal.sim.platform.faults import Fault
from terminal.sync.backoff import ManualClock
from terminal.sync.worker import SyncSettings, SyncWorker
from tests.ledger.helpers import clock
from tests.sync.realserver import platform_records

SETTINGS = SyncSettings(batch_size=50, config_seconds=1e9, time_seconds=1e9)


def record(ledger, n: int):
    return ledger.record_sale(
        amount_won=1000 + n,
        method="mpm",
        benefits=Benefits(10, 5, 1),
        clock=clock(n),
        offline=False,
    )


def worker_for(device, ledger, **options):
    return SyncWorker(
        ledger,
        device.client(),
        device_id=device.device_id,
        settings=options.pop("settings", SETTINGS),
        clock=ManualClock(),
        rng=random.Random(5),
        probe=lambda: True,
        **options,
    )


def test_records_reach_the_platform_over_mtls(server, device):
    ledger = device.ledger()
    committed = {record(ledger, n).record.txn_id: None for n in range(120)}
    worker = worker_for(device, ledger)
    _, offline = worker.cycle()
    assert not offline and ledger.queue()[0] == 0
    assert set(platform_records(server, device.device_id)) == set(committed)
    assert worker.totals.requests == 3  # 50 + 50 + 20 on one kept-alive connection
    ledger.close()


def test_lossy_network_exactly_once_on_the_real_simulator(server, device):
    """1,000 sales while the simulator drops 30% of requests, drops 10% of replies after it
    committed, and answers 5% with 503: it ends holding exactly the committed set."""
    ledger = device.ledger()
    worker = worker_for(device, ledger)
    server.faults.set(
        Fault("drop_request", rate=0.3, path="/v1/transactions"),
        Fault("drop_reply", rate=0.1, path="/v1/transactions"),
        Fault("unavailable_503", rate=0.05, path="/v1/transactions", seconds=1),
        seed=11,
    )
    committed = {}
    try:
        for n in range(1000):
            recorded = record(ledger, n)
            committed[recorded.record.txn_id] = recorded.jws
            if n % 50 == 49:
                worker.cycle()
        for _ in range(500):  # bounded
            if ledger.queue()[0] == 0:
                break
            worker.cycle()
    finally:
        fired = dict(server.faults.fired)
        server.faults.clear()
    assert ledger.queue()[0] == 0
    assert platform_records(server, device.device_id) == committed
    assert fired["drop_request"] and fired["drop_reply"] and fired["unavailable_503"]
    assert worker.totals.duplicate > 0 and worker.totals.parked == 0
    ledger.close()


KILLED_SYNC = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from terminal.ledger.store import Ledger
    from terminal.signing import DeviceKey
    from terminal.sync.client import PlatformClient
    from terminal.sync.transport import TlsFiles

    folder, device_id, url = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    ledger = Ledger(folder / "terminal.db", DeviceKey.load(folder / "device.key"), device_id)
    tls = TlsFiles(folder / "platform-ca.pem", folder / "device.crt", folder / "device.key")
    client = PlatformClient.connect(url, tls)
    rows = ledger.claim(500, 0)
    results = client.upload(rows)
    assert all(r.status == "accepted" for r in results), results
    print(len(rows), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # after the platform committed, before settle
    """
)


def test_sigkill_between_send_and_settle_is_reclaimed_and_answered_duplicate(server, device):
    ledger = device.ledger()
    committed = {record(ledger, n).record.txn_id for n in range(40)}
    ledger.close()
    done = subprocess.run(
        [sys.executable, "-c", KILLED_SYNC, str(device.folder), device.device_id, device.url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == -9, done.stderr
    assert done.stdout.strip() == "40"
    assert set(platform_records(server, device.device_id)) == committed

    ledger = device.ledger()  # opening reclaims the rows left 'sending'
    assert ledger.queue()[0] == 40
    worker = worker_for(device, ledger)
    worker.cycle()
    assert ledger.queue()[0] == 0
    assert worker.totals.duplicate == 40 and worker.totals.accepted == 40
    assert set(platform_records(server, device.device_id)) == committed  # nothing doubled
    ledger.close()


def test_the_worker_resumes_at_once_when_the_platform_comes_back(server, device):
    """The simulator stops listening; the worker backs off (an hour, here) but probes, and
    drains as soon as the port answers again: only the probe can finish within the wait."""
    import threading

    from terminal.sync.backoff import SystemClock
    from terminal.sync.status import StatusBoard

    ledger = device.ledger()
    committed = {record(ledger, n).record.txn_id for n in range(5)}
    went_offline, drained = threading.Event(), threading.Event()

    class Board(StatusBoard):
        def update(self, **changes):
            status = super().update(**changes)
            if not status.online and status.problem:
                went_offline.set()
            if went_offline.is_set() and status.online and status.queue_depth == 0:
                drained.set()
            return status

    hour = SyncSettings(
        backoff_initial_seconds=3600,
        backoff_max_seconds=3600,
        probe_seconds=0.05,
        config_seconds=1e9,
        time_seconds=1e9,
    )
    client = device.client()
    worker = SyncWorker(
        ledger,
        client,
        device_id=device.device_id,
        settings=hour,
        clock=SystemClock(),
        rng=random.Random(1),
        status=Board(),
    )
    server.faults.set(Fault("refuse"))
    try:
        worker.start()
        assert went_offline.wait(30)
        assert ledger.queue()[0] == 5
        server.faults.remove("refuse")
        assert drained.wait(30)
    finally:
        server.faults.clear()
        worker.stop(timeout=30)
    assert set(platform_records(server, device.device_id)) == committed
    ledger.close()
