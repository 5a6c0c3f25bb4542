"""Offline acceptance rules, and records' canonical form."""

from __future__ import annotations

import dataclasses
import inspect
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core import offline as offline_module
from terminal.core.offline import (
    HOUR_MS,
    MAX_SYNC_AGE_MS,
    REFUSALS,
    ClockState,
    OfflineLimits,
    Unsynced,
    accept_offline_token,
    check_offline,
    refusal,
)
from terminal.core.records import GENESIS_HASH, Record, RecordError, record_from_json
from terminal.core.tokens import DEFAULT_BARCODE, BarcodeFormat, customer_barcode
from tests.core.test_tokens import TOKEN, issue
from tests.keys import platform_keys

LIMITS = OfflineLimits(True, 50_000, 300_000, 30, 72)
NOW = 1_795_000_000_000
TRUSTED = ClockState(NOW, True, NOW - 60_000)  # synchronised a minute ago, in this boot


@pytest.mark.parametrize(
    ("amount", "limits", "unsynced", "clock", "extra", "code"),
    [
        (12_000, LIMITS, Unsynced(), TRUSTED, {}, None),
        (50_000, LIMITS, Unsynced(), TRUSTED, {}, None),  # exactly at the limit
        (50_001, LIMITS, Unsynced(), TRUSTED, {}, "amount_over_limit"),
        (
            1_000,
            dataclasses.replace(LIMITS, enabled=False),
            Unsynced(),
            TRUSTED,
            {},
            "offline_disabled",
        ),
        (1_000, LIMITS, Unsynced(299_500, 3, NOW), TRUSTED, {}, "total_over_limit"),
        (1_000, LIMITS, Unsynced(1_000, 30, NOW), TRUSTED, {}, "count_over_limit"),
        (
            1_000,
            LIMITS,
            Unsynced(1_000, 1, NOW - 72 * HOUR_MS - 1),
            TRUSTED,
            {},
            "unsynced_too_old",
        ),
        (1_000, LIMITS, Unsynced(1_000, 1, NOW - 72 * HOUR_MS), TRUSTED, {}, None),
        (20_000, LIMITS, Unsynced(), TRUSTED, {"token_cap_won": 10_000}, "token_over_cap"),
    ],
)
def test_offline_rules(amount, limits, unsynced, clock, extra, code):
    result = check_offline(amount, limits, unsynced, clock, **extra)
    assert (result.code if result else None) == code


@pytest.mark.parametrize(
    ("clock", "trusted"),
    [
        (TRUSTED, True),
        (ClockState(NOW, True, NOW), True),  # synchronised just now
        (ClockState(NOW, True, NOW - MAX_SYNC_AGE_MS), True),  # at the bound
        (ClockState(NOW, True, NOW - MAX_SYNC_AGE_MS - 1), False),  # too long ago
        (ClockState(NOW, True, NOW + 1), False),  # rewound since the sync
        (ClockState(NOW, True, 0), False),  # "synchronised" but never when
        (ClockState(NOW, False, NOW - 1), False),  # a time from before this boot
        (ClockState(NOW, False, 0), False),
        (ClockState(NOW, True, NOW - 2 * HOUR_MS, max_sync_age_ms=HOUR_MS), False),
    ],
)
def test_clock_trust_needs_a_recent_sync_in_this_boot(clock, trusted):
    assert clock.trusted is trusted
    refused = check_offline(1_000, LIMITS, Unsynced(), clock)
    assert (refused.code if refused else None) == (None if trusted else "clock_untrusted")


def test_attack_stale_clock_after_a_power_cut_is_not_trusted():
    """The Pi resumes hours behind real time but after the last trusted time it wrote to disk,
    with no sync since boot: it used to count as trusted ("not rewound") and accepted tokens
    that had expired hours ago by real time."""
    last_trusted_on_disk = NOW - 5 * HOUR_MS
    resumed_at = NOW - 3 * HOUR_MS  # real time is NOW
    clock = ClockState(resumed_at, synced_since_boot=False, last_trusted_ms=last_trusted_on_disk)
    assert not clock.trusted
    old_token = issue(dataclasses.replace(TOKEN, issued_at=resumed_at // 1000 - 10))
    accepted, refused = accept(old_token, clock=clock)
    assert accepted is None and refused.code == "clock_untrusted"


@given(
    st.integers(0, 2**44),
    st.booleans(),
    st.integers(0, 2**44),
    st.integers(1, 7 * 24 * HOUR_MS),
)
def test_trust_is_exactly_a_recent_sync_in_this_boot(now, synced, last, max_age):
    clock = ClockState(now, synced, last, max_age)
    assert clock.trusted == (synced and last > 0 and 0 <= now - last <= max_age)


# --- the whole offline decision, with a real signed token -------------------------------


def accept(text: str, *, clock: ClockState = TRUSTED, amount: int = 12_000, seen=()):
    return accept_offline_token(
        text,
        amount,
        check=platform_keys().check_tagged,
        expected_issuer="IE",
        already_seen=lambda token_id: token_id in seen,
        limits=LIMITS,
        unsynced=Unsynced(),
        clock=clock,
    )


def test_a_fresh_token_is_accepted_offline():
    accepted, refused = accept(issue(dataclasses.replace(TOKEN, issued_at=NOW // 1000)))
    assert refused is None and accepted.token_id == TOKEN.token_id


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"clock": ClockState(NOW, False, 0)}, "clock_untrusted"),
        ({"amount": 60_000}, "amount_over_limit"),
        ({"seen": {str(TOKEN.token_id)}}, "replayed"),
        ({"amount": 50_000}, "token_over_cap"),  # within the limit, over the token's cap
    ],
)
def test_offline_token_refusals(kwargs, code):
    token = dataclasses.replace(TOKEN, issued_at=NOW // 1000, offline_cap_won=50_000 - 1)
    accepted, refused = accept(issue(token), **kwargs)
    assert accepted is None and refused.code == code


def test_a_long_lived_token_is_refused_offline_with_its_own_message():
    token = dataclasses.replace(TOKEN, issued_at=NOW // 1000 - 600, lifetime_seconds=3600)
    accepted, refused = accept(issue(token))
    assert accepted is None and refused.code == "bad_lifetime"
    assert "3분" in refused.message_ko


def test_the_barcode_form_is_never_accepted_offline_whatever_its_format():
    barcode = BarcodeFormat("9410", 24)
    code = customer_barcode(TOKEN.token_id, barcode)
    assert accept_with_barcode(code, barcode)[1].code == "barcode_online_only"
    assert accept_with_barcode(code, DEFAULT_BARCODE)[1].code == "wrong_issuer"


def accept_with_barcode(text: str, barcode: BarcodeFormat):
    return accept_offline_token(
        text,
        1_000,
        check=platform_keys().check_tagged,
        expected_issuer="IE",
        already_seen=lambda token_id: False,
        limits=LIMITS,
        unsynced=Unsynced(),
        clock=TRUSTED,
        barcode=barcode,
    )


def test_the_clock_is_checked_in_one_place():
    """The trusted-clock check used to be written twice (accept_offline_token and
    check_offline); the decision now reads `clock.trusted` only inside check_offline."""
    source = inspect.getsource(offline_module)
    assert source.count("clock.trusted") == 1
    assert "clock.trusted" in inspect.getsource(check_offline)


def test_every_refusal_has_korean_text():
    for code, text in REFUSALS.items():
        assert refusal(code).message_ko == text
        assert any("\uac00" <= ch <= "\ud7a3" for ch in text), code


def record(**overrides) -> Record:
    fields = dict(
        txn_id="0190f0f0-0000-7000-8000-000000000001",
        device_id="D1",
        seq=1,
        prev_hash=GENESIS_HASH,
        kind="sale",
        method="cpm",
        amount_won=12000,
        benefits={"total_won": 1200},
        refs={"token_id": "T1"},
        time_ms=NOW,
        clock_synced=True,
        offline=True,
    )
    return Record(**{**fields, **overrides})


@pytest.mark.parametrize(
    "overrides",
    [
        {"kind": "gift"},
        {"method": "cash"},
        {"kind": "close"},
        {"seq": 0},
        {"amount_won": 0},
        {"amount_won": 1.5},
        {"prev_hash": "abc"},
    ],
)
def test_malformed_records_are_refused(overrides):
    with pytest.raises(RecordError):
        record(**overrides)


@given(st.integers(1, 10**10), st.text(max_size=20), st.booleans())
def test_canonical_bytes_read_back_to_the_same_record(amount, label, offline):
    original = record(amount_won=amount, refs={"charge_id": label}, offline=offline)
    assert record_from_json(original.canonical()) == original


def test_non_canonical_payload_is_refused():
    payload = record().canonical().replace(b'"v":1', b'"v": 1')
    with pytest.raises(RecordError, match="canonical"):
        record_from_json(payload)


# --- 선할인 in records ---------------------------------------------------------------------


def test_a_discounted_sale_record_carries_list_discount_and_charged():
    sale = record(amount_won=11_400, discount_won=600)
    assert (sale.list_won, sale.discount_won, sale.amount_won) == (12_000, 600, 11_400)
    payload = json.loads(sale.canonical())
    assert (payload["list_won"], payload["discount_won"], payload["amount_won"]) == (
        12_000,
        600,
        11_400,
    )
    assert record_from_json(sale.canonical()) == sale


def test_a_record_without_discount_keeps_its_old_bytes():
    plain = record()
    assert plain.list_won == plain.amount_won and plain.discount_won == 0
    assert b"list_won" not in plain.canonical() and b"discount_won" not in plain.canonical()


@pytest.mark.parametrize(
    "overrides",
    [
        {"discount_won": -1},
        {"discount_won": 1.5},
        {"discount_won": 600, "list_won": 12_001},
        {"list_won": 12_001},
        {"kind": "close", "method": None, "amount_won": 0, "discount_won": 5},
    ],
)
def test_inconsistent_discounts_are_refused(overrides):
    with pytest.raises(RecordError):
        record(**{"amount_won": 11_400, **overrides})


def test_a_plain_record_spelling_out_a_zero_discount_is_not_canonical():
    spelled_out = (
        record()
        .canonical()
        .replace(b'"amount_won":12000,', b'"amount_won":12000,"discount_won":0,"list_won":12000,')
    )
    assert spelled_out != record().canonical()
    with pytest.raises(RecordError, match="canonical"):
        record_from_json(spelled_out)


# --- the configuration version in records ----------------------------------------------------


def test_a_record_without_a_pushed_configuration_keeps_its_old_bytes():
    assert b"config_version" not in record().canonical()
    assert record(config_version=0).canonical() == record().canonical()


@given(st.integers(1, 2**31))
def test_a_pushed_configuration_version_is_signed_into_the_record(version):
    with_version = record(config_version=version)
    assert f'"config_version":{version}'.encode() in with_version.canonical()
    assert record_from_json(with_version.canonical()) == with_version


@pytest.mark.parametrize("version", [-1, True, 1.0, "3"])
def test_a_config_version_must_be_a_whole_number(version):
    with pytest.raises(RecordError, match="config_version"):
        record(config_version=version)
