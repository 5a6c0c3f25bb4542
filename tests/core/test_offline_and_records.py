"""Offline acceptance rules, and records' canonical form."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.offline import (
    HOUR_MS,
    REFUSALS,
    ClockState,
    OfflineLimits,
    Unsynced,
    check_offline,
    refusal,
)
from terminal.core.records import GENESIS_HASH, Record, RecordError, record_from_json

LIMITS = OfflineLimits(True, 50_000, 300_000, 30, 72)
NOW = 1_795_000_000_000
TRUSTED = ClockState(NOW, True, 0)


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
        (1_000, LIMITS, Unsynced(), TRUSTED, {"is_barcode": True}, "barcode_online_only"),
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
        (1_000, LIMITS, Unsynced(), ClockState(NOW, False, 0), {}, "clock_untrusted"),
        (1_000, LIMITS, Unsynced(), ClockState(NOW, False, NOW + 1), {}, "clock_untrusted"),
        (1_000, LIMITS, Unsynced(), ClockState(NOW, False, NOW - 1), {}, None),  # not rewound
        (20_000, LIMITS, Unsynced(), TRUSTED, {"token_cap_won": 10_000}, "token_over_cap"),
    ],
)
def test_offline_rules(amount, limits, unsynced, clock, extra, code):
    result = check_offline(amount, limits, unsynced, clock, **extra)
    assert (result.code if result else None) == code


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
