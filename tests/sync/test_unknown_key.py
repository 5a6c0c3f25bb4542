"""A code by a platform key the terminal lacks: the worker says whether a key fetch is coming
now (online, not rate-limited), and readers of the KeyCache can wait for newer keys."""

from __future__ import annotations

import random
import threading

from terminal.signing import jwks_document
from terminal.sync.backoff import ManualClock
from terminal.sync.keys import KeyCache
from terminal.sync.worker import SyncSettings, SyncWorker
from tests.keys import other_key, platform_key
from tests.ledger.helpers import open_ledger
from tests.sync.fakes import FakePlatform, fake_client

DEVICE = "SIM-0000001"


def jwks(*keys):
    return jwks_document({k.kid: k.public_key for k in keys})


def worker(tmp_path, keys: KeyCache, clock: ManualClock) -> SyncWorker:
    client, _ = fake_client(FakePlatform(jwks=jwks(platform_key(), other_key())))
    return SyncWorker(
        open_ledger(tmp_path),
        client,
        device_id=DEVICE,
        settings=SyncSettings(config_seconds=1e9, time_seconds=1e9),
        clock=clock,
        rng=random.Random(1),
        probe=lambda: True,
        keys=keys,
    )


def test_a_fetch_is_coming_only_when_online_and_not_rate_limited(tmp_path):
    clock = ManualClock()
    keys = KeyCache(None, min_interval_seconds=60)
    sync = worker(tmp_path, keys, clock)
    assert sync.unknown_key("tag:0badcafe") is False  # not online yet: nothing is coming
    sync.cycle()  # online, keys fetched now
    assert sync.status.current.online and keys.keys
    assert sync.unknown_key("tag:0badcafe") is False  # fetched a moment ago: rate-limited
    clock.advance(61)
    generation = keys.generation
    assert sync.unknown_key("tag:0badcafe") is True and keys.unknown_wanted
    sync.cycle()
    assert keys.generation > generation and not keys.unknown_wanted
    assert sync.unknown_key(platform_key().kid) is False  # a key we hold is never unknown


def test_readers_wait_for_newer_keys_bounded():
    keys = KeyCache(None)
    generation = keys.generation
    assert keys.wait_newer(generation, 0.01) is False
    installed = threading.Event()

    def install():
        keys.install(jwks(platform_key()), 0.0)
        installed.set()

    thread = threading.Thread(target=install)
    thread.start()
    assert keys.wait_newer(generation, 10.0) is True
    thread.join()
    assert installed.is_set() and platform_key().kid in keys.keys
