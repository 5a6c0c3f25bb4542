"""The app's watchdog health with a sync thread that has ended: not ok, and it says why (a
restart is what gets the sales sent again)."""

from __future__ import annotations

import threading

from terminal.sync.backoff import ManualClock
from terminal.sync.worker import SyncWorker
from tests.app.kit import Kit
from tests.sync.fakes import FakePlatform, fake_client
from tests.sync.test_disk_faults import BOUND, SETTINGS


class Ended(BaseException):
    """What ends a sync thread's loop: only a BaseException (an interpreter exit) does."""


def test_a_dead_sync_thread_fails_the_watchdog(tmp_path, monkeypatch):
    monkeypatch.setattr(threading, "excepthook", lambda args: None)  # the thread's end is meant
    kit = Kit(tmp_path / "state")

    class EndingLedger:
        def __getattr__(self, name):
            return getattr(kit.ledger, name)

        def claim(self, limit, now_ms):
            raise Ended()

    client, _ = fake_client(FakePlatform())
    worker = SyncWorker(
        EndingLedger(),
        client,
        device_id=kit.config.device.id,
        settings=SETTINGS,
        clock=ManualClock(),
        probe=lambda: False,
    )
    kit.app.parts.sync = worker
    try:
        assert kit.app.health().ok  # not started yet: nothing to say
        worker.start()
        worker._thread.join(BOUND)
        health = kit.app.health()
        assert not health.ok
        assert any(
            problem.startswith("sync: the sync thread has stopped") for problem in health.problems
        )
    finally:
        worker.stop(timeout=BOUND)
        kit.app.shutdown()
