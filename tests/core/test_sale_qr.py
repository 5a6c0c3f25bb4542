"""The signed dynamic sale QR: every field comes back, and any alteration is refused."""

from __future__ import annotations

import dataclasses

import pytest

from terminal.core import emv
from terminal.core.sale_qr import SaleQr, SaleQrError, build_sale_qr, verify_sale_qr
from tests.keys import device_check, device_key, other_key

NOW = 1_795_000_000
SALE = SaleQr(
    platform_guid="kr.incheon.eeum",
    merchant_id="M2024001234",
    terminal_id="D20261122-0042",
    mcc="5462",
    amount_won=12000,
    name_en="BUPYEONG MARKET TTEOK",
    city_en="INCHEON",
    name_ko="부평시장 떡집",
    city_ko="인천",
    charge_id="06H02P585HFFCA70P7X7",
    terminal_label="D20261122-0042",
    expires_at=NOW + 300,
    key_id=device_key().kid,
)


def signed(sale: SaleQr = SALE) -> str:
    return build_sale_qr(sale, device_key().sign)


def recrc(payload: str) -> str:
    """An attacker who edits a payload recomputes the CRC; only the signature stops them."""
    body = payload[:-4]
    return body + emv.crc_hex(body)


def test_build_and_verify_gives_back_every_field():
    payload = signed()
    assert len(payload) <= emv.MAX_PAYLOAD_CHARS
    assert verify_sale_qr(payload, device_check, NOW) == SALE
    tree = emv.to_tree(emv.parse(payload, strict=True))
    assert tree["01"] == "12" and tree["53"] == "410" and tree["54"] == "12000"
    assert tree["58"] == "KR" and tree["64"]["01"] == "부평시장 떡집"
    assert tree["62"]["05"] == SALE.charge_id


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("540512000", "540513000"),  # re-priced
        ("0111M2024001234", "0111M2024009999"),  # another merchant
        (str(NOW + 300), str(NOW + 900)),  # expiry pushed back
        ("부평시장 떡집", "부평시장 빵집"),
    ],
)
def test_altered_field_fails_the_signature(old, new):
    payload = signed()
    assert old in payload
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(recrc(payload.replace(old, new)), device_check, NOW)
    assert caught.value.reason == "bad_signature"


def test_altered_signature_character_is_refused():
    payload = signed()
    at = payload.index("0343") + 10
    flipped = "A" if payload[at] != "A" else "B"
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(recrc(payload[:at] + flipped + payload[at + 1 :]), device_check, NOW)
    assert caught.value.reason in ("bad_signature", "unsigned")


def test_altered_without_new_crc_is_malformed():
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(signed().replace("540512000", "540513000"), device_check, NOW)
    assert caught.value.reason == "malformed" and "bad_crc" in str(caught.value)


def test_expired_is_refused():
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(signed(), device_check, NOW + 300)
    assert caught.value.reason == "expired"


def test_swapped_qr_from_an_unknown_terminal_is_refused():
    swapped = build_sale_qr(dataclasses.replace(SALE, key_id=other_key().kid), other_key().sign)
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(swapped, device_check, NOW)
    assert caught.value.reason == "unknown_key"


def test_qr_signed_by_another_key_under_our_key_id_is_refused():
    forged = build_sale_qr(SALE, other_key().sign)
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(forged, device_check, NOW)
    assert caught.value.reason == "bad_signature"


def test_unsigned_qr_is_refused():
    payload = signed()
    objects = emv.parse(payload)
    unsigned = emv.encode(objects[:-2])
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(unsigned, device_check, NOW)
    assert caught.value.reason == "unsigned"


def test_object_after_the_signature_is_refused():
    objects = emv.parse(signed())
    extended = emv.encode((*objects, emv.DataObject("99", (emv.DataObject("00", "x"),))))
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(extended, device_check, NOW)
    assert caught.value.reason == "altered"


def test_static_qr_is_not_a_sale():
    payload = recrc(signed().replace("010212", "010211", 1))
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(payload, device_check, NOW)
    assert caught.value.reason == "not_dynamic"


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount_won", 0), ("charge_id", "short"), ("name_en", "x" * 26), ("mcc", "58")],
)
def test_build_refuses_bad_fields(field, value):
    with pytest.raises(SaleQrError, match="malformed"):
        signed(dataclasses.replace(SALE, **{field: value}))
