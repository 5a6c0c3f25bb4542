"""A full disk (ENOSPC) or a card remounted read-only must not end the sync thread (hostile
review 2, H3: the LedgerFull handler wrote sync-status.json, got ENOSPC, and the thread died
with the outbox unsent). The thread survives failing passes, backs off, drains once the disk
takes writes again, never lets an exception escape, logs a failing status write once, and
reports its own health."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import random
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from terminal.ledger.errors import LedgerFull
from terminal.sync.backoff import ManualClock
from terminal.sync.parked import ParkedList, read_parked
from terminal.sync.status import StatusBoard, load_status
from terminal.sync.worker import STUCK_SECONDS, SyncSettings, SyncWorker
from tests.ledger.helpers import open_ledger, sale
from tests.sync.fakes import FakePlatform, fake_client

SETTINGS = SyncSettings(
    interval_seconds=15,
    batch_size=2,
    backoff_initial_seconds=1,
    backoff_max_seconds=60,
    probe_seconds=2,
    config_seconds=1e9,
    time_seconds=1e9,
)
FAILING_PASSES = 12
BOUND = 30  # seconds any wait for the thread may take before the test fails (never reached)


class GatedClock(ManualClock):
    """Waits return at once with the time moved on (ManualClock), except: wait number `gate_at`
    holds until the test opens the gate (it changes the fault meanwhile), and once `idle` is
    set a wait blocks until the worker is woken or stopped, so a drained thread does not spin."""

    def __init__(self, gate_at: int):
        super().__init__()
        self.gate_at = gate_at
        self.at_gate = threading.Event()
        self.gate = threading.Event()
        self.idle = threading.Event()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        if len(self.waits) + 1 == self.gate_at and not self.gate.is_set():
            self.at_gate.set()
            self.gate.wait(BOUND)
        if self.idle.is_set():
            self.waits.append(seconds)
            return event.wait(BOUND)
        return super().wait(event, seconds)


class DrainedBoard(StatusBoard):
    """Sets `drained` (and the clock idle) when the status shows an empty outbox, online."""

    def __init__(self, path: Path, clock: GatedClock):
        super().__init__(path)
        self.clock = clock
        self.drained = threading.Event()

    def update(self, **changes):
        status = super().update(**changes)
        if status.online and status.queue_depth == 0 and status.problem is None:
            self.clock.idle.set()
            self.drained.set()
        return status


@pytest.fixture
def thread_errors(monkeypatch):
    """Every exception that escapes a thread (threading.excepthook), kept for the test."""
    caught: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", caught.append)
    return caught


def start_worker(ledger, board: DrainedBoard, clock: GatedClock, parked=None):
    platform = FakePlatform()
    client, _ = fake_client(platform)
    worker = SyncWorker(
        ledger,
        client,
        device_id="D-TEST-0001",
        settings=SETTINGS,
        clock=clock,
        rng=random.Random(5),
        status=board,
        parked=parked,
        probe=lambda: False,
    )
    worker.start()
    return worker, platform


def status_write_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "sync status: cannot write" in r.message]


def check_backoff(clock: GatedClock, worker: SyncWorker) -> None:
    failing = clock.waits[: FAILING_PASSES - 1]
    assert all(0 <= wait <= SETTINGS.backoff_max_seconds for wait in failing)
    assert worker.backoff.failures >= FAILING_PASSES - 1  # it backed off, not a fixed retry


class FullDiskLedger:
    """The real ledger, whose claims fail while `full`: alternately with the ledger's own
    LedgerFull (handled inside the pass) and a raw ENOSPC (handled by the thread's loop)."""

    def __init__(self, ledger):
        self.ledger, self.full, self.refused = ledger, True, 0

    def __getattr__(self, name):
        return getattr(self.ledger, name)

    def claim(self, limit, now_ms):
        if self.full:
            self.refused += 1
            if self.refused % 2:
                raise LedgerFull("terminal.db: the disk is full (SQLITE_FULL); free space")
            raise OSError(errno.ENOSPC, "No space left on device", "terminal.db-wal")
        return self.ledger.claim(limit, now_ms)


def test_the_thread_survives_failing_passes_and_drains_once_the_fault_is_cleared(
    tmp_path, caplog, thread_errors
):
    """The H3 chain exactly: claims refused by a full disk, and every status write failing
    (its path is a directory, which fails for root too). Runs everywhere."""
    caplog.set_level(logging.INFO)
    ledger = open_ledger(tmp_path)
    ids = {sale(ledger, 1000 + n, n).record.txn_id for n in range(5)}
    full = FullDiskLedger(ledger)
    status_path = tmp_path / "sync-status.json"
    status_path.mkdir()  # os.replace onto a directory: IsADirectoryError, an OSError
    clock = GatedClock(gate_at=FAILING_PASSES)
    board = DrainedBoard(status_path, clock)
    worker, platform = start_worker(full, board, clock)
    try:
        assert clock.at_gate.wait(BOUND)
        assert worker.alive() and worker.trouble() is None
        assert full.refused == FAILING_PASSES
        assert board.current.problem  # the UI still sees what is wrong
        assert len(status_write_warnings(caplog)) == 1  # once, not once per pass
        failed = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(failed) == 1 and "sync pass failed" in failed[0].message
        check_backoff(clock, worker)
        full.full = False  # space freed
        status_path.rmdir()
        clock.gate.set()
        assert board.drained.wait(BOUND)
        assert set(platform.stored) == ids
        saved = load_status(status_path)
        assert saved is not None and saved.online and saved.queue_depth == 0
        assert any("written again" in r.message for r in caplog.records)
        assert not list(tmp_path.glob("*.tmp"))
    finally:
        worker.stop(timeout=BOUND)
        ledger.close()
    assert thread_errors == []
    assert not worker.alive()


@pytest.fixture
def small_disk(tmp_path):
    """A real 1 MiB tmpfs (root only), unmounted after the test."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        unmounted = subprocess.run(["umount", str(folder)], capture_output=True)
        if unmounted.returncode != 0:  # still busy (a failed test's open file): detach it
            subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(folder: Path) -> Path:
    """Writes a file until the disk refuses (ENOSPC); returns it (delete it to free space)."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:  # unbuffered: close has nothing to flush
        for size in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    handle.write(b"\0" * size)
    return filler


def test_a_real_full_disk_keeps_the_thread_alive_and_the_outbox_drains_after(
    small_disk, caplog, thread_errors
):
    caplog.set_level(logging.INFO)
    ledger = open_ledger(small_disk)
    worker = None
    try:
        ids = {sale(ledger, 1000 + n, n).record.txn_id for n in range(5)}
        ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the next write needs new space
        filler = fill(small_disk)
        status_path = small_disk / "sync-status.json"
        clock = GatedClock(gate_at=FAILING_PASSES)
        board = DrainedBoard(status_path, clock)
        parked = ParkedList(small_disk / "parked.jsonl")
        worker, platform = start_worker(ledger, board, clock, parked)
        assert clock.at_gate.wait(BOUND)
        assert worker.alive() and worker.trouble() is None
        assert "SQLITE_FULL" in (board.current.problem or "")
        assert ledger.queue()[0] == 5 and platform.stored == {}
        warnings = status_write_warnings(caplog)
        assert len(warnings) == 1 and "ENOSPC" in warnings[0]
        check_backoff(clock, worker)
        filler.unlink()  # space freed: no restart
        clock.gate.set()
        assert board.drained.wait(BOUND)
        assert set(platform.stored) == ids and ledger.queue()[0] == 0
        saved = load_status(status_path)
        assert saved is not None and saved.online and saved.queue_depth == 0
    finally:
        if worker is not None:
            worker.stop(timeout=BOUND)
        ledger.close()
    assert thread_errors == []


class SettleRefused:
    """The real ledger, whose next `refusals` settles fail with LedgerFull (after the platform
    has stored the batch): the claimed rows stay 'sending' in the real file."""

    def __init__(self, ledger, refusals: int):
        self.ledger, self.refusals = ledger, refusals

    def __getattr__(self, name):
        return getattr(self.ledger, name)

    def settle(self, accepted, rejected, retry):
        if self.refusals:
            self.refusals -= 1
            raise LedgerFull("terminal.db: the disk is full (SQLITE_FULL); free space")
        return self.ledger.settle(accepted, rejected, retry)


def test_rows_a_full_disk_left_sending_are_sent_again_without_a_restart(tmp_path):
    ledger = open_ledger(tmp_path)
    ids = {sale(ledger, 1000 + n, n).record.txn_id for n in range(3)}
    refusing = SettleRefused(ledger, refusals=2)  # the settle, then its retry in the handler
    platform = FakePlatform()
    client, _ = fake_client(platform)
    worker = SyncWorker(
        refusing, client, device_id="D-TEST-0001", settings=SETTINGS, clock=ManualClock()
    )
    worker.cycle()
    assert "SQLITE_FULL" in worker.status.current.problem
    assert ledger.queue()[0] == 3  # still 'sending': nothing would claim them again
    worker.cycle()
    assert ledger.queue()[0] == 0 and set(platform.stored) == ids
    assert worker.totals.duplicate >= 2  # re-sent, answered duplicate, settled
    ledger.close()


def test_a_status_write_that_fails_keeps_the_status_in_memory_logs_once_and_retries(
    tmp_path, caplog
):
    path = tmp_path / "sync-status.json"
    path.mkdir()
    board = StatusBoard(path)
    for depth in range(1, 6):
        board.update(queue_depth=depth, problem=f"problem {depth}")
    assert board.current.queue_depth == 5 and board.current.problem == "problem 5"
    assert len(status_write_warnings(caplog)) == 1
    assert not (tmp_path / "sync-status.json.tmp").exists()
    path.rmdir()
    board.update(queue_depth=6)
    assert load_status(path) == board.current


def test_a_parked_list_the_disk_refuses_catches_up_later(tmp_path, caplog):
    path = tmp_path / "parked.jsonl"
    parked = ParkedList(path)
    path.mkdir()  # appending to a directory fails, for root too
    parked.add({"a": "rejected: x"}, 1)
    parked.add({"a": "rejected: x", "b": "rejected: y"}, 2)
    assert sum("parked list: cannot write" in r.message for r in caplog.records) == 1
    path.rmdir()
    parked.add({"a": "rejected: x", "b": "rejected: y"}, 3)
    assert read_parked(path) == [("a", "rejected: x"), ("b", "rejected: y")]


def test_health_names_a_stuck_thread(tmp_path):
    """A request that hangs past every timeout: the thread has not moved on."""
    ledger = open_ledger(tmp_path)
    sale(ledger, 1000)
    inside, release = threading.Event(), threading.Event()

    def hang(request):
        inside.set()
        release.wait(BOUND)
        raise OSError("released")

    platform = FakePlatform(override=hang)
    client, _ = fake_client(platform)
    clock = ManualClock()
    worker = SyncWorker(
        ledger,
        client,
        device_id="D-TEST-0001",
        settings=SETTINGS,
        clock=clock,
        probe=lambda: False,
    )
    assert worker.trouble() is None and not worker.alive()  # not started: nothing to say
    worker.start()
    try:
        assert inside.wait(BOUND)
        assert worker.trouble() is None
        clock.advance(STUCK_SECONDS + 1)
        assert "has not moved on" in worker.trouble()
    finally:
        release.set()
        worker.stop(timeout=BOUND)
        ledger.close()


def test_health_names_a_thread_that_ended(tmp_path, thread_errors):
    """Only a BaseException (an interpreter exit) ends the loop; health says so."""

    class Ended(BaseException):
        pass

    ledger = open_ledger(tmp_path)
    sale(ledger, 1000)

    class EndingLedger:
        def __getattr__(self, name):
            return getattr(ledger, name)

        def claim(self, limit, now_ms):
            raise Ended()

    client, _ = fake_client(FakePlatform())
    worker = SyncWorker(
        EndingLedger(),
        client,
        device_id="D-TEST-0001",
        settings=SETTINGS,
        clock=ManualClock(),
        probe=lambda: False,
    )
    worker.start()
    worker._thread.join(BOUND)
    assert not worker.alive()
    assert "has stopped" in worker.trouble()
    assert [type(e.exc_value) for e in thread_errors] == [Ended]
    worker.stop(timeout=BOUND)
    assert worker.trouble() is None  # stopped on purpose
    ledger.close()
