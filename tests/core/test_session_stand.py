"""The printed QR stand's payload: static, no amount, the stand's serial, signed by the device."""

from __future__ import annotations

import pytest

from terminal.core import emv
from terminal.core.base64url import b64url_decode
from terminal.core.sale_qr import (
    SaleQr,
    build_sale_qr,
    merchant_account_template,
    merchant_language_template,
    signed_message,
)
from terminal.core.session.stand import Stand, StandError, build_stand_qr
from terminal.signing import DeviceKey

KEY = DeviceKey.generate()
STAND = Stand(
    "kr.incheon.eeum", "M0000000001", "SIM-0000001", "5812", "HYETAEK PLUS BUNSIK", "INCHEON",
    "혜택플러스 분식", "인천", 7, KEY.kid,
)  # fmt: skip


def test_static_unpriced_numbered_and_signed():
    payload = build_stand_qr(STAND, KEY.sign)
    objects = emv.parse(payload, strict=True)
    values = {o.id: o for o in objects}
    assert values["01"].text() == "11" and "54" not in values
    assert values["62"].sub("05") == "STAND-000007"
    template, tail = values["80"], values["81"]
    assert template.sub("01") == "0" and template.sub("02") == KEY.kid
    signature = b64url_decode(template.sub("03") + tail.sub("01"))
    message = signed_message(objects[:-2], template.value[:3])
    assert KEY.verify(message, signature)
    other = DeviceKey.generate()
    assert not other.verify(message, signature)


def test_the_signature_covers_the_merchant():
    payload = build_stand_qr(STAND, KEY.sign)
    forged = payload.replace("M0000000001", "M0000000002")
    objects = emv.parse(forged[:-4] + emv.crc_hex(forged[:-4]), strict=True)
    values = {o.id: o for o in objects}
    signature = b64url_decode(values["80"].sub("03") + values["81"].sub("01"))
    assert not KEY.verify(signed_message(objects[:-2], values["80"].value[:3]), signature)


@pytest.mark.parametrize("serial", [0, 1_000_000])
def test_serial_out_of_range(serial):
    from dataclasses import replace

    with pytest.raises(StandError, match="serial"):
        build_stand_qr(replace(STAND, serial=serial), KEY.sign)


def _bound(merchant_id, terminal_id, kid, message, signature):
    if (merchant_id, terminal_id, kid) != ("M0000000001", "SIM-0000001", KEY.kid):
        raise LookupError(kid)
    return KEY.verify(message, signature)


def test_read_back_and_verified_with_the_bound_key():
    from terminal.core.session.stand import verify_stand_qr

    assert verify_stand_qr(build_stand_qr(STAND, KEY.sign), _bound) == STAND


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda p: p.replace("M0000000001", "M0000000002"), "unknown_key"),  # another shop
        (lambda p: p.replace("HYETAEK", "HYETAEX"), "bad_signature"),  # a field changed
        (lambda p: p[:6] + "12" + p[8:], "not_static"),  # "000201" "0102" "11" → "12"
    ],
)
def test_a_changed_stand_is_refused(change, reason):
    from terminal.core.session.stand import verify_stand_qr

    payload = change(build_stand_qr(STAND, KEY.sign))
    payload = payload[:-4] + emv.crc_hex(payload[:-4])  # a fresh CRC: only the signature tells
    with pytest.raises(StandError) as refused:
        verify_stand_qr(payload, _bound)
    assert refused.value.reason == reason


def test_a_stand_signed_by_another_key_is_unknown():
    from dataclasses import replace

    from terminal.core.session.stand import verify_stand_qr

    other = DeviceKey.generate()
    payload = build_stand_qr(replace(STAND, key_id=other.kid), other.sign)
    with pytest.raises(StandError) as refused:
        verify_stand_qr(payload, _bound)
    assert refused.value.reason == "unknown_key"


@pytest.mark.parametrize("charge_id, kind", [("STAND-000007", "stand"), ("01ABCDEF", "sale")])
def test_a_sale_record_naming_a_stand_is_a_stand_entry(charge_id, kind):
    from terminal.core.records import GENESIS_HASH, Record
    from terminal.core.session.report import entry_from_record

    txn_id = "0190f0f0-0000-7000-8000-000000000001"
    refs = {"charge_id": charge_id}
    record = Record(
        txn_id, "SIM-1", 1, GENESIS_HASH, "sale", "mpm", 5_000, {}, refs, 1, True, False
    )
    assert entry_from_record(record).kind == kind


def _names():
    from hypothesis import strategies as st

    return st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ ", min_size=1, max_size=20).map(str.strip)


def test_read_back_for_any_serial_and_name():
    from dataclasses import replace

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from terminal.core.session.stand import read_stand_qr, verify_stand_qr

    @settings(max_examples=60, deadline=None)
    @given(st.integers(1, 999_999), _names().filter(bool))
    def check(serial, name):
        stand = replace(STAND, serial=serial, name_en=name)
        payload = build_stand_qr(stand, KEY.sign)
        assert read_stand_qr(payload)[0] == stand
        assert verify_stand_qr(payload, _bound) == stand

    check()


def test_any_changed_character_is_refused():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from terminal.core.session.stand import verify_stand_qr

    payload = build_stand_qr(STAND, KEY.sign)
    body = payload[:-4]  # the CRC is recomputed: only the layout and signature can tell

    @settings(max_examples=200, deadline=None)
    @given(st.integers(0, len(body) - 1), st.sampled_from("0123456789AZaz-_ "))
    def check(index, char):
        if body[index] == char:
            return
        changed = body[:index] + char + body[index + 1 :]
        with pytest.raises(StandError):
            verify_stand_qr(changed + emv.crc_hex(changed), _bound)

    check()


FROZEN_STAND = (
    "00020101021126490015kr.incheon.eeum0111M00000000010211SIM-00000015204581253034105802"
    "KR5919HYETAEK PLUS BUNSIK6007INCHEON62310512STAND-0000070711SIM-000000164240002ko010"
    "8혜택플러스 분식0202인천80770015kr.incheon.eeum010100202k10343AAECAwQFBgcICQoLDA0ODxAREhMUFRY"
    "XGBkaGxwdHh881660015kr.incheon.eeum0143gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-Pw63"
    "0435CC"
)


def test_the_stand_payload_is_byte_for_byte_the_frozen_layout():
    stand = Stand(
        "kr.incheon.eeum", "M0000000001", "SIM-0000001", "5812", "HYETAEK PLUS BUNSIK", "INCHEON",
        "혜택플러스 분식", "인천", 7, "k1",
    )  # fmt: skip
    assert build_stand_qr(stand, lambda message: bytes(range(64))) == FROZEN_STAND


def test_the_sale_qr_and_the_stand_carry_one_merchant_layout():
    """Both payloads take their merchant account (26) and Korean name (64) from the one shared
    builder, so a stand and a sale QR of the same shop name it identically."""
    sale = SaleQr(
        STAND.platform_guid, STAND.merchant_id, STAND.terminal_id, STAND.mcc, 4500,
        STAND.name_en, STAND.city_en, STAND.name_ko, STAND.city_ko, "06H02P585HFFCA70P7X7",
        STAND.terminal_id, 1_795_000_300, KEY.kid,
    )  # fmt: skip
    account = merchant_account_template(STAND.platform_guid, STAND.merchant_id, STAND.terminal_id)
    language = merchant_language_template(STAND.name_ko, STAND.city_ko)
    assert emv.encode_unchecked_prefix((account,)) == (
        "26490015kr.incheon.eeum0111M00000000010211SIM-0000001"
    )
    for payload in (build_sale_qr(sale, KEY.sign), build_stand_qr(STAND, KEY.sign)):
        values = {o.id: o for o in emv.parse(payload, strict=True)}
        assert values["26"] == account and values["64"] == language
        assert payload[12:].startswith(emv.encode_unchecked_prefix((account,)))
