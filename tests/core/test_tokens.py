"""Customer tokens and payment receipts: compact, signed, and refused for specific reasons."""

from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.base45 import Base45Error, b45decode, b45encode
from terminal.core.receipt import (
    PaymentReceipt,
    ReceiptError,
    build_receipt,
    sale_digest,
    verify_receipt,
)
from terminal.core.sale_qr import build_sale_qr
from terminal.core.signature import high_s_twin
from terminal.core.tokens import (
    BARCODE_DIGITS,
    CLOCK_SKEW_SECONDS,
    MAX_TOKEN_ID,
    TOKEN_LIFETIME_SECONDS,
    BarcodeFormat,
    CustomerToken,
    TokenError,
    build_customer_token,
    customer_barcode,
    luhn_check_digit,
    parse_customer_barcode,
    verify_customer_token,
)
from tests.core.test_sale_qr import SALE
from tests.keys import device_key, other_key, platform_key, platform_keys

NOW = 1_795_000_000
TOKEN = CustomerToken(
    issuer="IE",
    token_id=12_345_678_901_234_567 % MAX_TOKEN_ID,
    wallet_ref=bytes.fromhex("0011223344556677"),
    issued_at=NOW,
    lifetime_seconds=180,
    offline_cap_won=50000,
)


def issue(token: CustomerToken = TOKEN, key=None) -> str:
    key = key or platform_key()
    return build_customer_token(token, platform_key().kid, key.sign)


def verify(text: str, now: int = NOW + 10) -> CustomerToken:
    return verify_customer_token(text, platform_keys().check_tagged, now, "IE")


def test_token_round_trip_and_size():
    text = issue()
    assert verify(text) == TOKEN
    assert len(text) == 148  # QR version 5-L / 6-M, alphanumeric mode
    assert all(c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:" for c in text)


@pytest.mark.parametrize(
    ("now", "reason"),
    [
        (NOW + 180, "expired"),
        (NOW + 10_000, "expired"),
        (NOW - 60, "not_yet_valid"),
        (NOW - CLOCK_SKEW_SECONDS - 1, "not_yet_valid"),
    ],
)
def test_token_time_window(now, reason):
    with pytest.raises(TokenError) as caught:
        verify(issue(), now)
    assert caught.value.reason == reason


@pytest.mark.parametrize("now", [NOW - CLOCK_SKEW_SECONDS, NOW, NOW + 179])
def test_token_is_accepted_inside_its_window(now):
    assert verify(issue(), now) == TOKEN


@pytest.mark.parametrize("lifetime", [181, 600, 3600, 65535])
def test_attack_token_issued_with_a_long_lifetime_is_refused(lifetime):
    """A token signed with a one-hour lifetime used to verify 50 minutes later."""
    long_lived = dataclasses.replace(TOKEN, lifetime_seconds=lifetime)
    for now in (NOW + 10, NOW + 50 * 60):
        with pytest.raises(TokenError) as caught:
            verify(issue(long_lived), now)
        assert caught.value.reason == "bad_lifetime"


@given(st.integers(1, 65535), st.integers(-1000, 5000))
def test_no_token_is_ever_accepted_beyond_180_s_plus_the_skew(lifetime, offset):
    token = dataclasses.replace(TOKEN, lifetime_seconds=lifetime)
    try:
        verify(issue(token), NOW + offset)
    except TokenError:
        return
    assert lifetime <= TOKEN_LIFETIME_SECONDS
    assert -CLOCK_SKEW_SECONDS <= offset < TOKEN_LIFETIME_SECONDS


def test_token_from_another_issuer_is_refused():
    with pytest.raises(TokenError) as caught:
        verify(issue(dataclasses.replace(TOKEN, issuer="GG")))
    assert caught.value.reason == "wrong_issuer"


def test_token_with_bad_signature_is_refused():
    with pytest.raises(TokenError) as caught:
        verify(issue(key=other_key()))
    assert caught.value.reason == "bad_signature"


def test_token_signed_by_unknown_key_is_refused():
    text = build_customer_token(TOKEN, other_key().kid, other_key().sign)
    with pytest.raises(TokenError) as caught:
        verify(text)
    assert caught.value.reason == "unknown_key"


def test_attack_high_s_twin_of_a_token_is_refused():
    """Each token had two valid texts: its signature and the signature's high-S twin."""
    raw = b45decode(issue()[4:])
    twin = "EU1:" + b45encode(raw[:-64] + high_s_twin(raw[-64:]))
    with pytest.raises(TokenError) as caught:
        verify(twin)
    assert caught.value.reason == "bad_signature" and "low-S" in str(caught.value)


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", max_size=30))
def test_base45_accepts_only_the_one_text_it_writes(text):
    try:
        data = b45decode(text)
    except Base45Error:
        return
    assert b45encode(data) == text


def test_token_with_a_changed_cap_is_refused():
    raw = bytearray(b45decode(issue()[4:]))
    raw[30] ^= 0x01  # inside the offline cap field
    with pytest.raises(TokenError) as caught:
        verify("EU1:" + b45encode(bytes(raw)))
    assert caught.value.reason == "bad_signature"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("hello", "malformed"),
        ("EU1:", "malformed"),
        ("EU1:abc", "malformed"),
        ("EU1:" + b45encode(b"\x01" * 96)[:-3], "malformed"),
        ("EU1:" + b45encode(b"\x02" + b"\x00" * 95), "wrong_version"),
    ],
)
def test_malformed_tokens_are_refused(text, reason):
    with pytest.raises(TokenError) as caught:
        verify(text)
    assert caught.value.reason == reason


@given(st.text(max_size=200))
def test_any_text_is_refused_or_verified_never_crashes(text):
    with contextlib.suppress(TokenError):
        verify(text)


def test_barcode_round_trip_default_24_digits():
    code = customer_barcode(TOKEN.token_id)
    assert BARCODE_DIGITS == 24
    assert len(code) == 24 and code.isdigit() and code.startswith("97")
    assert parse_customer_barcode(code) == TOKEN.token_id


barcode_formats = st.builds(
    lambda digits, prefix_length, data: BarcodeFormat(
        data.draw(st.text("0123456789", min_size=prefix_length, max_size=prefix_length)), digits
    ),
    st.integers(21, 24),
    st.integers(1, 3),
    st.data(),
)


@given(barcode_formats, st.integers(0, MAX_TOKEN_ID))
def test_barcode_round_trip_for_any_issuer_format(barcode, token_id):
    code = customer_barcode(token_id, barcode)
    assert len(code) == barcode.digits and code.startswith(barcode.prefix)
    assert parse_customer_barcode(code, barcode) == token_id


@given(barcode_formats, st.integers(0, MAX_TOKEN_ID), st.data())
def test_barcode_single_digit_error_is_caught(barcode, token_id, data):
    code = customer_barcode(token_id, barcode)
    # Every position after the prefix: the prefix is checked first, as another issuer's.
    position = data.draw(st.integers(len(barcode.prefix), barcode.digits - 1))
    digit = (int(code[position]) + data.draw(st.integers(1, 9))) % 10
    changed = code[:position] + str(digit) + code[position + 1 :]
    with pytest.raises(TokenError) as caught:
        parse_customer_barcode(changed, barcode)
    assert caught.value.reason == "bad_check_digit"


@given(st.text(max_size=30))
def test_any_text_is_a_barcode_or_refused_never_crashes(text):
    try:
        token_id = parse_customer_barcode(text)
    except TokenError:
        return
    assert customer_barcode(token_id) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "malformed"),
        ("97", "malformed"),
        ("97123456789012345678901X", "malformed"),
        ("97" + "0" * 21 + "\n", "malformed"),
        ("٩٧" + "0" * 22, "malformed"),  # Arabic-Indic digits pass str.isdigit()
        ("1" * 24, "wrong_issuer"),
        ("9" * 25, "malformed"),
        (customer_barcode(5)[:-1], "malformed"),  # the old 20/23-digit form
        # 21 digits of id with a right check digit, but above the largest 7-byte token id
        ("97" + "9" * 21 + luhn_check_digit("97" + "9" * 21), "malformed"),
    ],
)
def test_bad_barcodes_are_refused(text, reason):
    with pytest.raises(TokenError) as caught:
        parse_customer_barcode(text)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("prefix", "digits"),
    [("97", 20), ("97", 25), ("9781", 21), ("", 24), ("9a", 24), ("97\n", 24), ("97", True)],
)
def test_impossible_barcode_formats_are_refused(prefix, digits):
    with pytest.raises(TokenError, match="malformed"):
        BarcodeFormat(prefix, digits)


VICTIM_QR = build_sale_qr(SALE, device_key().sign)
RECEIPT = PaymentReceipt(
    "IE", SALE.charge_id, SALE.amount_won, NOW, b"PAYREF01", sale_digest(VICTIM_QR)
)


def check_receipt(text: str, **overrides):
    expected = {
        "sale_payload": VICTIM_QR,
        "charge_id": RECEIPT.charge_id,
        "amount_won": 12000,
        "expected_issuer": "IE",
    }
    return verify_receipt(text, platform_keys().check_tagged, **{**expected, **overrides})


def platform_receipt(receipt: PaymentReceipt = RECEIPT, key=None) -> str:
    return build_receipt(receipt, platform_key().kid, (key or platform_key()).sign)


def test_receipt_round_trip_and_size():
    text = platform_receipt()
    assert check_receipt(text) == RECEIPT
    assert len(text) == 192  # QR version 8-M, alphanumeric mode


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"charge_id": "06H02P585HFFCA70P7X8"}, "wrong_charge"),
        ({"amount_won": 12001}, "wrong_amount"),
        ({"expected_issuer": "XX"}, "wrong_issuer"),
        ({"sale_payload": VICTIM_QR[:-8] + "6304ABCD"}, "wrong_sale"),
    ],
)
def test_receipt_for_another_sale_is_refused(overrides, reason):
    with pytest.raises(ReceiptError) as caught:
        check_receipt(platform_receipt(), **overrides)
    assert caught.value.reason == reason


def test_forged_receipt_is_refused():
    with pytest.raises(ReceiptError) as caught:
        check_receipt(platform_receipt(key=other_key()))
    assert caught.value.reason == "bad_signature"


def test_attack_receipt_for_a_copied_charge_id_is_refused():
    """The attacker copies the charge id from the victim's offline screen into a QR of his own
    enrolled terminal (his merchant, same amount), pays himself, and shows the victim the
    platform's real receipt. The receipt names the attacker's QR, not the victim's."""
    attacker_sale = dataclasses.replace(
        SALE, merchant_id="M-ATTACKER-01", terminal_id="D-ATTACKER-01", key_id=other_key().kid
    )
    attacker_qr = build_sale_qr(attacker_sale, other_key().sign)
    paid = dataclasses.replace(RECEIPT, sale_digest=sale_digest(attacker_qr))
    text = platform_receipt(paid)
    assert check_receipt(text, sale_payload=attacker_qr) == paid  # genuine for his own sale
    with pytest.raises(ReceiptError) as caught:
        check_receipt(text)  # the victim checks it against the QR it showed
    assert caught.value.reason == "wrong_sale"


@given(st.text(min_size=0, max_size=4))
def test_a_receipt_with_any_issuer_text_is_built_or_refused_cleanly(issuer):
    """A non-ASCII issuer such as "가나" passed isalpha() and then raised UnicodeEncodeError."""
    try:
        receipt = dataclasses.replace(RECEIPT, issuer=issuer)
    except ReceiptError as error:
        assert error.reason == "malformed"
        return
    assert check_receipt(platform_receipt(receipt), expected_issuer=issuer) == receipt


@pytest.mark.parametrize("issuer", ["가나", "ÉE", "I", "IEE", "I\n", "٣٣"])
def test_receipt_issuer_must_be_two_ascii_letters(issuer):
    with pytest.raises(ReceiptError, match="2 ASCII letters"):
        dataclasses.replace(RECEIPT, issuer=issuer)


@pytest.mark.parametrize("issuer", ["가나", "ÉE", "I\n"])
def test_token_issuer_must_be_two_ascii_letters(issuer):
    with pytest.raises(TokenError, match="2 ASCII letters"):
        dataclasses.replace(TOKEN, issuer=issuer)


@given(st.integers(0, MAX_TOKEN_ID))
def test_every_token_id_has_a_qr_form_and_a_barcode_form(token_id):
    """MAX_TOKEN_ID once was 10**17 - 1, which does not fit the QR's 7 bytes (OverflowError)."""
    token = dataclasses.replace(TOKEN, token_id=token_id)
    assert verify(issue(token)).token_id == token_id
    assert parse_customer_barcode(customer_barcode(token_id)) == token_id
