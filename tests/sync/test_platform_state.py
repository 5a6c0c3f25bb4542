"""Platform keys cached and refreshed (rate-limited), signed time feeding the trusted clock,
and pushed configuration validated like a local file and applied between sales."""

from __future__ import annotations

import random
import subprocess

import pytest

from terminal.config import ConfigError, load_config
from terminal.core.records import canonical_json
from terminal.signing import JwsError, jwks_document
from terminal.sync.backoff import ManualClock
from terminal.sync.keys import KeyCache
from terminal.sync.pushed_config import ConfigHolder, build_config
from terminal.sync.trusted_time import (
    TrustedClock,
    timedatectl_synchronized,
    verify_signed_time,
)
from terminal.sync.worker import SyncSettings, SyncWorker
from tests.keys import other_key, platform_key
from tests.ledger.helpers import open_ledger
from tests.sync.fakes import FakePlatform, fake_client

DEVICE = "D-TEST-0001"


def jwks(*keys):
    return jwks_document({key.kid: key.public_key for key in keys})


def signed_time(key, nonce, time_ms, device=DEVICE):
    payload = {"device_id": device, "nonce": nonce, "time_ms": time_ms}
    return {"time_ms": time_ms, "jws": key.jws(canonical_json(payload))}


# --- keys ------------------------------------------------------------------------------------


def test_keys_are_cached_on_disk_and_refreshed_on_schedule(tmp_path):
    path = tmp_path / "platform_jwks.json"
    cache = KeyCache(path, refresh_seconds=3600, min_interval_seconds=60)
    assert cache.due(0)
    fetched = []

    def fetch():
        fetched.append(1)
        return jwks(platform_key(), other_key())

    assert cache.refresh(fetch, 0)
    assert set(KeyCache(path).keys) == {platform_key().kid, other_key().kid}  # survives restart
    assert not cache.refresh(fetch, 1800)
    assert cache.refresh(fetch, 3600)
    assert len(fetched) == 2


def test_unknown_key_ids_refresh_early_but_at_most_once_a_minute(tmp_path):
    cache = KeyCache(tmp_path / "k.json", refresh_seconds=3600, min_interval_seconds=60)
    fetches = []

    def fetch():
        fetches.append(1)
        return jwks(platform_key(), other_key())

    cache.refresh(fetch, 0)
    for second in range(1, 600):  # a flood of forged key ids, one per second for 10 minutes
        cache.note_unknown(f"forged{second:06d}")
        cache.refresh(fetch, second)
    assert len(fetches) <= 1 + 600 // 60
    cache.refresh(fetch, 10_000)
    cache.note_unknown(platform_key().kid)  # a known one never triggers a fetch
    assert not cache.unknown_wanted and not cache.due(10_100)


def test_a_malformed_key_document_changes_nothing(tmp_path):
    cache = KeyCache(tmp_path / "k.json", min_interval_seconds=0)
    cache.refresh(lambda: jwks(platform_key(), other_key()), 0)
    before = dict(cache.keys)
    assert not cache.refresh(lambda: {"keys": [{"kty": "RSA", "kid": "x"}]}, 10**6)
    assert cache.keys == before


# --- time ------------------------------------------------------------------------------------


def test_signed_time_is_checked_for_signature_nonce_and_device():
    keys = {platform_key().kid: platform_key().public_key}
    good = signed_time(platform_key(), "nonce-123456", 1_795_000_000_000)
    assert verify_signed_time(good, nonce="nonce-123456", device_id=DEVICE, keys=keys) > 0
    from terminal.sync.errors import UntrustedAnswer

    with pytest.raises(UntrustedAnswer, match="nonce"):
        verify_signed_time(good, nonce="other-nonce-1", device_id=DEVICE, keys=keys)
    with pytest.raises(UntrustedAnswer, match="device"):
        verify_signed_time(
            signed_time(platform_key(), "n" * 12, 5, device="D-OTHER"),
            nonce="n" * 12,
            device_id=DEVICE,
            keys=keys,
        )
    with pytest.raises(UntrustedAnswer, match="differs"):
        verify_signed_time(
            {**good, "time_ms": good["time_ms"] + 1},
            nonce="nonce-123456",
            device_id=DEVICE,
            keys=keys,
        )
    with pytest.raises(JwsError, match="unknown key"):
        verify_signed_time(
            signed_time(other_key(), "nonce-123456", 1),
            nonce="nonce-123456",
            device_id=DEVICE,
            keys=keys,
        )


def test_the_trusted_clock_follows_platform_time_and_ntp():
    clock = ManualClock()
    noted = []
    ntp = {"synced": False}
    trusted = TrustedClock(
        wall_ms=clock.wall_ms,
        monotonic=clock.monotonic,
        last_trusted_ms=0,
        note_trusted=noted.append,
        ntp=lambda: ntp["synced"],
    )
    assert not trusted.refresh_trust() and not trusted.state().trusted
    ntp["synced"] = True
    clock.advance(61)  # NTP is re-asked at most once a minute
    assert trusted.refresh_trust() and trusted.state().trusted
    assert noted == [clock.wall_ms()]
    # The platform says our clock is an hour fast: the platform wins over NTP.
    trusted.record_platform_time(clock.wall_ms() - 3_600_000, clock.now, clock.now + 0.05)
    assert not trusted.state().trusted
    assert trusted.skew_ms() > 3_500_000
    # Agreeing platform time restores trust.
    trusted.record_platform_time(clock.wall_ms(), clock.now, clock.now + 0.05)
    assert trusted.state().trusted


def test_timedatectl_answers_are_read_and_failures_are_unknown():
    def run(answer, code=0):
        return lambda *a, **k: subprocess.CompletedProcess(a, code, stdout=answer, stderr="")

    assert timedatectl_synchronized(run("yes\n")) is True
    assert timedatectl_synchronized(run("no\n")) is False
    assert timedatectl_synchronized(run("", 1)) is None

    def missing(*a, **k):
        raise FileNotFoundError("timedatectl")

    assert timedatectl_synchronized(missing) is None


def test_the_worker_trusts_time_only_after_verifying_it(tmp_path):
    ledger = open_ledger(tmp_path)
    clock = ManualClock()
    platform = FakePlatform(
        signer=platform_key(), time_ms=clock.wall_ms(), jwks=jwks(platform_key(), other_key())
    )
    client, _ = fake_client(platform)
    trusted = TrustedClock(
        wall_ms=clock.wall_ms,
        monotonic=clock.monotonic,
        last_trusted_ms=ledger.last_trusted_ms(),
        note_trusted=ledger.note_trusted_time,
        ntp=lambda: False,
    )
    worker = SyncWorker(
        ledger,
        client,
        device_id=DEVICE,
        settings=SyncSettings(config_seconds=1e9),
        clock=clock,
        rng=random.Random(1),
        probe=lambda: True,
        keys=KeyCache(tmp_path / "jwks.json"),
        trusted=trusted,
    )
    worker.cycle()
    assert trusted.state().trusted
    assert ledger.last_trusted_ms() == clock.wall_ms()
    # A platform signing with a key nobody published: not believed.
    platform.signer = KeyedStranger()
    trusted.platform = None
    trusted.synced_at_ms = 0
    clock.advance(601)
    worker.cycle()
    assert not trusted.state().trusted
    assert "signed time not trusted" in worker.status.current.problem
    ledger.close()


class KeyedStranger:
    def jws(self, payload):
        from terminal.signing import DeviceKey

        return DeviceKey.generate().jws(payload)


# --- pushed configuration ---------------------------------------------------------------------


def pushed(config, version=2, **changes):
    document = {
        "version": version,
        "issuer": config.issuer.id,
        "merchant": {
            "id": config.merchant.id,
            "name_ko": config.merchant.name_ko,
            "name_en": config.merchant.name_en,
            "city_ko": config.merchant.city_ko,
            "city_en": config.merchant.city_en,
            "mcc": config.merchant.mcc,
            "sangsaeng_rate_bp": config.merchant.sangsaeng_rate_bp,
        },
        "benefits": {
            k: getattr(config.benefits, k)
            for k in (
                "city_rate_bp",
                "city_monthly_cap_won",
                "district_topup_bp",
                "district_monthly_cap_won",
                "sangsaeng_min_bp",
                "sangsaeng_max_bp",
            )
        },
        "offline": {
            "enabled": True,
            "max_amount_won": 40_000,
            "max_total_won": 200_000,
            "max_count": 20,
            "max_age_hours": 48,
        },
        "qr": {"sale_expiry_seconds": 120},
    }
    for path, value in changes.items():
        section, key = path.split("__")
        document[section][key] = value
    return document


@pytest.fixture
def base():
    return load_config(env={}).config


def test_a_good_push_waits_for_the_next_sale_and_is_kept(tmp_path, base):
    holder = ConfigHolder(base, tmp_path / "pushed.json")
    assert holder.version is None and holder.for_sale().config.offline == base.offline
    sale_in_progress = holder.for_sale()
    holder.stage(pushed(base, 2), '"v2"')
    assert sale_in_progress.config.offline == base.offline  # the running sale is untouched
    assert holder.version == 2
    next_sale = holder.for_sale()
    assert next_sale.version == 2 and next_sale.config.offline.max_count == 20
    reopened = ConfigHolder(base, tmp_path / "pushed.json")  # last good kept across restarts
    assert reopened.version == 2 and reopened.etag == '"v2"'


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"offline__max_count": -1}, "at least"),
        ({"offline__max_count": "20"}, "whole number"),
        ({"merchant__sangsaeng_rate_bp": 10000}, "range"),
        ({"offline__surprise": 1}, "unknown key"),
        ({"qr__sale_expiry_seconds": True}, "whole number"),
    ],
)
def test_a_bad_push_is_refused_like_a_bad_file_and_the_last_good_stays(
    tmp_path, base, changes, complaint
):
    holder = ConfigHolder(base, tmp_path / "pushed.json")
    holder.stage(pushed(base, 2), '"v2"')
    with pytest.raises(ConfigError, match=complaint):
        holder.stage(pushed(base, 3, **changes), '"v3"')
    assert holder.for_sale().version == 2


def test_pushes_that_name_another_issuer_extra_sections_or_an_older_version_are_refused(base):
    document = pushed(base)
    with pytest.raises(ConfigError, match="issuer"):
        build_config(base, {**document, "issuer": "elsewhere"}, "push")
    with pytest.raises(ConfigError, match="cannot set paths"):
        build_config(base, {**document, "paths": {"database": "/tmp/x"}}, "push")
    holder = ConfigHolder(base)
    holder.stage(pushed(base, 5), '"v5"')
    with pytest.raises(ConfigError, match="older"):
        holder.stage(pushed(base, 4), '"v4"')


def test_the_worker_fetches_config_with_etag_and_stages_it(tmp_path, base):
    ledger = open_ledger(tmp_path)
    platform = FakePlatform(config=pushed(base, 3), config_version=3)
    client, _ = fake_client(platform)
    holder = ConfigHolder(base, tmp_path / "pushed.json")
    worker = SyncWorker(
        ledger, client, device_id=DEVICE, clock=ManualClock(), probe=lambda: True, config=holder
    )
    worker.check_config()
    worker.check_config()  # 304: nothing new
    assert holder.for_sale().version == 3
    assert platform.gets["/v1/config"] == 2
    assert worker.status.current.config_version in (None, "3")
    ledger.close()
