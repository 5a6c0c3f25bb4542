"""The signed dynamic sale QR: every field comes back, and any alteration is refused."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.core import emv
from terminal.core.base64url import b64url, b64url_decode
from terminal.core.sale_qr import (
    SaleQr,
    SaleQrError,
    build_sale_qr,
    read_sale_qr,
    verify_sale_qr,
)
from terminal.core.signature import high_s_twin, is_canonical, split
from terminal.signing import BoundDeviceKeys
from tests.keys import DEVICE_MERCHANT, DEVICE_TERMINAL, device_check, device_key, other_key

B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

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


def test_payload_naming_another_merchant_is_refused_as_not_bound_to_that_key():
    payload = recrc(signed().replace("0111M2024001234", "0111M2024009999"))
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(payload, device_check, NOW)
    assert caught.value.reason == "unknown_key"


def test_altered_signature_character_is_refused():
    payload = signed()
    at = payload.index("0343") + 10
    flipped = "A" if payload[at] != "A" else "B"
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(recrc(payload[:at] + flipped + payload[at + 1 :]), device_check, NOW)
    assert caught.value.reason == "bad_signature"


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


# --- §6 attacks: each must now fail ------------------------------------------------------


def test_attack_enrolled_device_signs_a_qr_naming_another_shop():
    """Any enrolled device key used to sign a QR for another merchant and terminal: the resolver
    is given the pair from the payload and the attacker's key is not bound to it."""
    attacker = other_key()
    directory = BoundDeviceKeys()
    directory.bind(DEVICE_MERCHANT, DEVICE_TERMINAL, device_key().public_key)
    directory.bind("M-ATTACKER-01", "D-ATTACKER-01", attacker.public_key)
    forged = build_sale_qr(dataclasses.replace(SALE, key_id=attacker.kid), attacker.sign)
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(forged, directory.check_sale, NOW)
    assert caught.value.reason == "unknown_key"
    assert "M2024001234" in str(caught.value)
    # The same key does verify the attacker's own QR: binding, not key strength, refused it.
    own = dataclasses.replace(
        SALE, merchant_id="M-ATTACKER-01", terminal_id="D-ATTACKER-01", key_id=attacker.kid
    )
    assert verify_sale_qr(build_sale_qr(own, attacker.sign), directory.check_sale, NOW) == own


def _signature_parts(payload: str) -> tuple[str, str]:
    tree = emv.to_tree(emv.parse(payload))
    return tree["80"]["03"], tree["81"]["01"]


def _with_signature(payload: str, head: str, tail: str) -> str:
    objects = emv.parse(payload)
    template, last = objects[-2], objects[-1]
    template = emv.DataObject("80", (*template.value[:3], emv.DataObject("03", head)))
    last = emv.DataObject("81", (last.value[0], emv.DataObject("01", tail)))
    return emv.encode((*objects[:-2], template, last))


@pytest.mark.parametrize("shift", [-3, -1, 1, 3])
def test_attack_moving_the_signature_split_point_is_refused(shift):
    payload = signed()
    head, tail = _signature_parts(payload)
    whole = head + tail
    moved = _with_signature(payload, whole[: 43 + shift], whole[43 + shift :])
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(moved, device_check, NOW)
    assert caught.value.reason == "malformed" and "split" in str(caught.value)


def test_attack_high_s_twin_of_the_signature_is_refused():
    payload = signed()
    head, tail = _signature_parts(payload)
    twin = b64url(high_s_twin(b64url_decode(head + tail)))
    # The twin is a mathematically valid signature: only canonical form refuses it.
    assert _verifies_as_der(b64url_decode(twin), payload)
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(_with_signature(payload, twin[:43], twin[43:]), device_check, NOW)
    assert caught.value.reason == "bad_signature" and "low-S" in str(caught.value)


def test_attack_unused_bits_of_the_last_signature_character_are_refused():
    payload = signed()
    head, tail = _signature_parts(payload)
    # 64 bytes = 85 full characters + one carrying 4 bits and 2 unused ones.
    last = tail[-1]
    twins = [c for c in B64_ALPHABET if B64_ALPHABET.index(c) >> 2 == B64_ALPHABET.index(last) >> 2]
    assert len(twins) == 4
    for char in twins:
        if char == last:
            continue
        with pytest.raises(SaleQrError) as caught:
            verify_sale_qr(_with_signature(payload, head, tail[:-1] + char), device_check, NOW)
        assert caught.value.reason == "bad_signature"


@settings(max_examples=50)
@given(st.integers(1, 10**9), st.integers(0, 10**6))
def test_every_signed_sale_is_in_the_one_canonical_form(amount, expiry):
    """ECDSA is randomized, so two signings differ; but each payload we make is the canonical
    text of its signature (the re-encodings are refused by the tests above)."""
    sale = dataclasses.replace(SALE, amount_won=amount, expires_at=NOW + 60 + expiry)
    payload = signed(sale)
    assert verify_sale_qr(payload, device_check, NOW) == sale
    head, tail = _signature_parts(payload)
    assert b64url(b64url_decode(head + tail)) == head + tail
    assert is_canonical(b64url_decode(head + tail))


def _verifies_as_der(signature: bytes, payload: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    _, message, _ = read_sale_qr(payload)
    r, s = split(signature)
    try:
        device_key().public_key.verify(
            encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        return False
    return True


@pytest.mark.parametrize("spelling", ["0{e}", "+{e}", " {e}"])
def test_attack_another_spelling_of_the_expiry_is_refused(spelling):
    """int() reads "0…", "+…" and " …" as the same number; only one spelling is the sale's."""
    payload = signed()
    expiry = str(SALE.expires_at)
    objects = emv.parse(payload)
    template = objects[-2]
    head = (
        template.value[0],
        emv.DataObject("01", spelling.format(e=expiry)),
        *template.value[2:],
    )
    respelled = emv.encode((*objects[:-2], emv.DataObject("80", head), objects[-1]))
    with pytest.raises(SaleQrError) as caught:
        verify_sale_qr(respelled, device_check, NOW)
    assert caught.value.reason == "malformed"


# Every byte of a sale QR, frozen: the same sale and signature give this text and no other
# (made before the merchant templates were shared with the stand, and unchanged by it).
FIXED_SIGNATURE = bytes(range(64))
FROZEN_PAYLOAD = (
    "00020101021226490015kr.incheon.eeum0111M00000000010211SIM-00000015204581253034105405"
    "120005802KR5919HYETAEK PLUS BUNSIK6007INCHEON6239052006H02P585HFFCA70P7X70711SIM-000"
    "000164240002ko0108혜택플러스 분식0202인천80860015kr.incheon.eeum011017950003000202k10343AAECA"
    "wQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh881660015kr.incheon.eeum0143gISIjJCUmJygpKissLS"
    "4vMDEyMzQ1Njc4OTo7PD0-Pw6304487A"
)


def test_the_payload_is_byte_for_byte_the_frozen_layout():
    sale = dataclasses.replace(
        SALE,
        merchant_id="M0000000001",
        terminal_id="SIM-0000001",
        mcc="5812",
        name_en="HYETAEK PLUS BUNSIK",
        name_ko="혜택플러스 분식",
        terminal_label="SIM-0000001",
        expires_at=1_795_000_300,
        key_id="k1",
    )
    assert build_sale_qr(sale, lambda message: FIXED_SIGNATURE) == FROZEN_PAYLOAD
