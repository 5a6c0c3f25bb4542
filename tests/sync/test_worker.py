"""The sync worker: backoff with full jitter, Retry-After, resuming when the network returns,
a status that is cheap to read, a clean stop, and exactly once over a lossy network."""

from __future__ import annotations

import random
import threading

import pytest

from terminal.sync.backoff import Backoff, ManualClock, SystemClock
from terminal.sync.parked import ParkedList, read_parked
from terminal.sync.status import StatusBoard, load_status
from terminal.sync.worker import SyncSettings, SyncWorker
from tests.ledger.helpers import open_ledger, sale
from tests.sync.fakes import FakePlatform, Faults, fake_client, problem

FAST = SyncSettings(
    interval_seconds=15,
    batch_size=20,
    backoff_initial_seconds=1,
    backoff_max_seconds=60,
    probe_seconds=2,
    config_seconds=1e9,
    time_seconds=1e9,
)


@pytest.fixture
def ledger(tmp_path):
    opened = open_ledger(tmp_path)
    yield opened
    opened.close()


def worker_for(ledger, platform, clock=None, probe=lambda: False, **options):
    client, adapter = fake_client(platform)
    worker = SyncWorker(
        ledger,
        client,
        device_id="D-TEST-0001",
        settings=options.pop("settings", FAST),
        clock=clock or ManualClock(),
        rng=random.Random(7),
        probe=probe,
        **options,
    )
    return worker, adapter


def test_full_jitter_stays_under_the_capped_exponential_and_honours_retry_after():
    backoff = Backoff(1, 60, random.Random(3))
    for failure in range(12):
        delay = backoff.next_delay()
        assert 0 <= delay <= min(60, 2**failure)
    assert backoff.next_delay(retry_after=90) >= 90
    backoff.reset()
    assert backoff.next_delay() <= 1
    spread = {round(Backoff(1, 60, random.Random(s)).next_delay(), 3) for s in range(20)}
    assert len(spread) > 10  # jittered, not lockstep
    with pytest.raises(ValueError):
        Backoff(10, 5)


def test_offline_backs_off_and_resumes_at_once_when_the_probe_sees_the_network(ledger):
    for n in range(5):
        sale(ledger, 1000, n)
    platform = FakePlatform(online=False)
    probes = []

    def probe():
        probes.append(1)
        return len(probes) >= 3 and platform.online

    clock = ManualClock()
    worker, _ = worker_for(ledger, platform, clock, probe)
    delays = []
    for _ in range(6):
        delay, offline = worker.cycle()
        assert offline
        delays.append(delay)
    assert worker.status.current.online is False
    assert worker.status.current.queue_depth == 5
    assert all(d <= 60 for d in delays)
    platform.online = True
    started = clock.now
    worker._wait(10_000, watch=True)  # a long backoff cut short by the probe
    assert clock.now - started <= 3 * FAST.probe_seconds
    assert worker.backoff.failures == 0
    delay, offline = worker.cycle()
    assert not offline and delay == FAST.interval_seconds
    status = worker.status.current
    assert status.online and status.queue_depth == 0 and status.problem is None


def test_retry_after_is_honoured_and_an_answer_to_the_app_wakes_the_worker(ledger):
    sale(ledger, 1000)
    platform = FakePlatform(
        override=lambda r: problem(503, "retry", "unavailable", **{"Retry-After": "42"})
    )
    worker, _ = worker_for(ledger, platform)
    delay, offline = worker.cycle()
    assert delay >= 42 and not offline
    worker.status.update(online=False)
    worker.network_seen(True)  # the app's own call got through
    assert worker._wake.is_set()


def test_parked_records_are_counted_listed_and_kept(ledger, tmp_path):
    bad = sale(ledger, 1000, 1).record.txn_id
    sale(ledger, 2000, 2)
    platform = FakePlatform(reject={bad: "bad_signature"})
    parked = ParkedList(tmp_path / "parked.jsonl")
    board = StatusBoard(tmp_path / "status.json")
    worker, _ = worker_for(ledger, platform, parked=parked, status=board)
    worker.cycle()
    assert board.current.parked == 1 and board.current.queue_depth == 0
    assert read_parked(tmp_path / "parked.jsonl") == [(bad, "rejected: bad_signature")]
    assert load_status(tmp_path / "status.json").parked == 1
    assert ParkedList(tmp_path / "parked.jsonl").count == 1  # survives a restart


def test_the_thread_drains_and_stops_cleanly(ledger):
    ids = {sale(ledger, 1000 + n, n).record.txn_id for n in range(30)}
    platform = FakePlatform()
    drained = threading.Event()

    class Board(StatusBoard):
        def update(self, **changes):
            status = super().update(**changes)
            if status.online and status.queue_depth == 0:
                drained.set()
            return status

    worker, _ = worker_for(ledger, platform, status=Board())
    worker.clock = SystemClock()
    worker.start()
    try:
        assert drained.wait(30)
    finally:
        worker.stop(timeout=10)
    assert worker._thread is None
    assert set(platform.stored) == ids


def test_lossy_network_exactly_once_through_the_seam(ledger):
    """1,000 sales recorded while 30% of requests are lost, 10% of replies are lost after the
    platform committed, and 5% are 503: the platform ends with exactly the committed set."""
    platform = FakePlatform(faults=Faults(drop_request=0.3, drop_reply=0.1, unavailable=0.05))
    worker, _ = worker_for(ledger, platform)
    committed = {}
    for n in range(1000):
        recorded = sale(ledger, 1000 + n, n)
        committed[recorded.record.txn_id] = recorded.jws
        if n % 25 == 24:
            worker.cycle()
    for _ in range(2000):  # bounded: ends long before with these rates
        if ledger.queue()[0] == 0:
            break
        worker.cycle()
    assert ledger.queue()[0] == 0
    assert platform.stored == committed  # none lost, none changed, none twice (keyed by id)
    assert worker.totals.accepted == 1000
    assert worker.totals.duplicate > 0  # lost replies were re-sent and answered duplicate
    assert worker.status.current.parked == 0


def test_a_bug_in_one_pass_is_logged_and_the_thread_keeps_going(ledger, caplog):
    ids = {sale(ledger, 1000 + n, n).record.txn_id for n in range(5)}
    platform = FakePlatform()
    drained = threading.Event()

    class FlakyLedger:
        """The real ledger, whose first claim fails with an unexpected error."""

        failed = False

        def __getattr__(self, name):
            return getattr(ledger, name)

        def claim(self, limit, now_ms):
            if not self.failed:
                self.failed = True
                raise RuntimeError("unexpected")
            return ledger.claim(limit, now_ms)

    class Board(StatusBoard):
        def update(self, **changes):
            status = super().update(**changes)
            if status.online and status.queue_depth == 0 and status.problem is None:
                drained.set()
            return status

    settings = SyncSettings(backoff_initial_seconds=0.01, backoff_max_seconds=0.02)
    worker, _ = worker_for(FlakyLedger(), platform, status=Board(), settings=settings)
    worker.clock = SystemClock()
    worker.start()
    try:
        assert drained.wait(30)
    finally:
        worker.stop(timeout=10)
    assert set(platform.stored) == ids
    assert "sync pass failed" in caplog.text


def test_a_server_that_accepts_and_fails_is_left_to_the_backoff_not_the_probe(ledger):
    sale(ledger, 1000)
    platform = FakePlatform(faults=Faults(drop_request=1.0))
    probes = []
    worker, _ = worker_for(ledger, platform, probe=lambda: probes.append(1) or True)
    delays = [worker.cycle() for _ in range(8)]
    assert all(not watch for _, watch in delays)  # TCP works: watching would hammer it
    assert worker.status.current.online is False and worker.backoff.failures == 8
    worker._wait(delays[-1][0], watch=False)
    assert probes == []
