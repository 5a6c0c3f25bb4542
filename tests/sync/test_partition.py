"""A 72-hour partition on a simulated clock: offline acceptance stops at the configured count,
total and age limits with the shopkeeper's message; after reconnection everything drains."""

from __future__ import annotations

import random

import pytest

from terminal.core.benefits import Benefits
from terminal.core.offline import HOUR_MS, OfflineLimits, check_offline
from terminal.sync.backoff import ManualClock
from terminal.sync.trusted_time import TrustedClock
from terminal.sync.worker import SyncSettings, SyncWorker
from tests.keys import platform_key
from tests.ledger.helpers import open_ledger
from tests.sync.fakes import FakePlatform, fake_client

SETTINGS = SyncSettings(
    backoff_initial_seconds=1, backoff_max_seconds=300, config_seconds=1e9, time_seconds=1e9
)


@pytest.mark.parametrize(
    ("limits", "amount", "refusal", "accepted_before"),
    [
        (OfflineLimits(True, 50_000, 300_000, 30, 72), 9_000, "count_over_limit", 30),
        (OfflineLimits(True, 50_000, 300_000, 1_000, 72), 20_000, "total_over_limit", 15),
        (OfflineLimits(True, 50_000, 10_000_000, 1_000, 72), 1_000, "unsynced_too_old", 145),
    ],
)
def test_offline_acceptance_stops_at_the_limits_and_drains_after(
    tmp_path, limits, amount, refusal, accepted_before
):
    ledger = open_ledger(tmp_path)
    platform = FakePlatform(online=False)
    clock = ManualClock()
    # The platform is cut off, not the internet: NTP keeps the clock trusted throughout.
    trusted = TrustedClock(
        wall_ms=clock.wall_ms,
        monotonic=clock.monotonic,
        last_trusted_ms=ledger.last_trusted_ms(),
        note_trusted=ledger.note_trusted_time,
        ntp=lambda: True,
    )
    client, _ = fake_client(platform)
    worker = SyncWorker(
        ledger,
        client,
        device_id="D-TEST-0001",
        settings=SETTINGS,
        clock=clock,
        rng=random.Random(1),
        probe=lambda: platform.online,
        trusted=trusted,
    )
    trusted.refresh_trust()  # at boot, before the first sale: NTP has synced
    accepted, refusals = 0, []
    for _half_hour in range(80 * 2):  # one customer every 30 minutes for 80 hours
        state = trusted.state()
        problem = check_offline(amount, limits, ledger.unsynced(), state)
        if problem is None:
            ledger.record_sale(
                amount_won=amount,
                method="cpm",
                benefits=Benefits(0, 0, 0),
                clock=state,
                offline=True,
                token_id=f"{clock.wall_ms()}",
            )
            accepted += 1
        else:
            refusals.append(problem)
        delay, offline = worker.cycle()  # the sync keeps failing, backing off
        assert offline and delay <= 300, worker.status.current
        clock.advance(30 * 60)
    assert accepted == accepted_before
    assert refusals and {r.code for r in refusals} == {refusal}
    assert all(r.message_ko for r in refusals)
    assert worker.status.current.online is False
    assert worker.status.current.queue_depth == accepted
    oldest = worker.status.current.oldest_age_ms(clock.wall_ms())
    assert oldest >= (72 * HOUR_MS if refusal == "unsynced_too_old" else 0)

    platform.online = True
    platform.signer, platform.time_ms = platform_key(), clock.wall_ms()
    worker._wait(10_000, watch=True)  # returns at the first probe that sees the network
    worker.cycle()
    assert ledger.queue()[0] == 0 and ledger.unsynced().count == 0
    assert len(platform.stored) == accepted
    state = trusted.state()
    assert check_offline(amount, limits, ledger.unsynced(), state) is None
    ledger.close()
