"""Customer-presented payment codes: the platform-signed QR token and its numeric Code128 form.

QR form: "EU1:" + Base45 of 32 bytes of fields and a 64-byte ES256 signature (148 characters,
all in the QR alphanumeric set: version 5 at level L, 6 at level M). Fields, big-endian:
version 1 | key tag 4 | issuer 2 ASCII | token id 7 | wallet ref 8 | issued at 4 (Unix s) |
lifetime 2 (s) | offline cap 4 (won).

Numeric form: the issuer's prefix + the token id, zero-padded + a Luhn check digit, as many
digits in all as the issuer's wallets show (Korean wallets: 21–24; default 24, prefix "97"). It
names the same token but carries no signature, so it can only be authorized online.

Time: a token lives at most 180 s (the Korean QR standard's rule for customer codes); one that
claims a longer lifetime is refused whatever its signature. The terminal allows 30 s of clock
skew on the "issued in the future" side only, so it accepts a token for at most 210 s of its own
clock.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from terminal.core.sealed import SealedError, SignatureCheck, Signer, seal, unseal

TOKEN_PREFIX = "EU1:"
TOKEN_VERSION = 1
TOKEN_LIFETIME_SECONDS = 180  # the Korean QR standard's limit for customer-presented codes
CLOCK_SKEW_SECONDS = 30  # a token may say it was issued this far ahead of the terminal's clock
BARCODE_PREFIX = "97"
BARCODE_DIGITS = 24  # Zero Pay and KakaoPay payment barcodes (VAN routing tables)
MIN_BARCODE_DIGITS, MAX_BARCODE_DIGITS = 21, 24  # what Korean wallets show
TOKEN_ID_DIGITS = 17
# The QR form packs the id into 7 bytes; 2**56 - 1 has 17 digits, so the barcode holds it too.
MAX_TOKEN_ID = 2**56 - 1
_DIGIT_RUN = re.compile(r"[0-9]+")
_ISSUER = re.compile(r"[A-Za-z]{2}")
_FIELDS = struct.Struct(">2s7s8sIHI")


class TokenError(SealedError):
    """A customer code that cannot be accepted; `reason` names why (see module doc)."""


@dataclass(frozen=True)
class CustomerToken:
    issuer: str  # two ASCII letters naming the issuing platform
    token_id: int
    wallet_ref: bytes  # 8 opaque bytes naming the customer's wallet on the platform
    issued_at: int  # Unix seconds
    lifetime_seconds: int
    offline_cap_won: int

    @property
    def expires_at(self) -> int:
        return self.issued_at + self.lifetime_seconds

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not _ISSUER.fullmatch(self.issuer):
            raise TokenError("malformed", f"issuer must be 2 ASCII letters: {self.issuer!r}")
        if not 0 <= self.token_id <= MAX_TOKEN_ID:
            raise TokenError("malformed", f"token id out of range: {self.token_id}")
        if len(self.wallet_ref) != 8:
            raise TokenError("malformed", "wallet ref must be 8 bytes")
        if not 0 <= self.issued_at < 2**32 or not 1 <= self.lifetime_seconds < 2**16:
            raise TokenError("malformed", "issue time or lifetime out of range")
        if not 0 <= self.offline_cap_won < 2**32:
            raise TokenError("malformed", f"offline cap out of range: {self.offline_cap_won}")


def build_customer_token(token: CustomerToken, kid: str, sign: Signer) -> str:
    """The QR text of a token, signed with the platform key `kid` (the simulator's job)."""
    fields = _FIELDS.pack(
        token.issuer.encode("ascii"),
        token.token_id.to_bytes(7, "big"),
        token.wallet_ref,
        token.issued_at,
        token.lifetime_seconds,
        token.offline_cap_won,
    )
    return seal(TOKEN_PREFIX, TOKEN_VERSION, kid, fields, sign)


def verify_customer_token(
    text: str, check: SignatureCheck, now: int, expected_issuer: str
) -> CustomerToken:
    """Parses and verifies a scanned token: signature, issuer, then time. Raises TokenError."""
    fields = unseal(TOKEN_PREFIX, TOKEN_VERSION, text, _FIELDS.size, check, TokenError)
    issuer, token_id, wallet_ref, issued_at, lifetime, cap = _FIELDS.unpack(fields)
    try:
        token = CustomerToken(
            issuer=issuer.decode("ascii"),
            token_id=int.from_bytes(token_id, "big"),
            wallet_ref=wallet_ref,
            issued_at=issued_at,
            lifetime_seconds=lifetime,
            offline_cap_won=cap,
        )
    except UnicodeDecodeError:
        raise TokenError("malformed", "issuer is not ASCII") from None
    if token.issuer != expected_issuer:
        raise TokenError("wrong_issuer", f"issued by {token.issuer!r}, not {expected_issuer!r}")
    if token.lifetime_seconds > TOKEN_LIFETIME_SECONDS:
        raise TokenError(
            "bad_lifetime",
            f"lifetime {token.lifetime_seconds} s exceeds {TOKEN_LIFETIME_SECONDS} s",
        )
    if now < token.issued_at - CLOCK_SKEW_SECONDS:
        raise TokenError("not_yet_valid", f"issued at {token.issued_at}, now {now}")
    if now >= token.expires_at:
        raise TokenError("expired", f"expired at {token.expires_at}, now {now}")
    return token


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:  # doubled: the rightmost payload digit sits next to the check digit
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


@dataclass(frozen=True)
class BarcodeFormat:
    """An issuer's numeric payment code: prefix, total length (check digit included)."""

    prefix: str = BARCODE_PREFIX
    digits: int = BARCODE_DIGITS

    def __post_init__(self) -> None:
        if not (isinstance(self.prefix, str) and _DIGIT_RUN.fullmatch(self.prefix)):
            raise TokenError("malformed", f"barcode prefix must be digits: {self.prefix!r}")
        if isinstance(self.digits, bool) or not isinstance(self.digits, int):
            raise TokenError("malformed", f"barcode length must be a number: {self.digits!r}")
        if not MIN_BARCODE_DIGITS <= self.digits <= MAX_BARCODE_DIGITS:
            raise TokenError(
                "malformed",
                f"barcode length {self.digits} is outside "
                f"{MIN_BARCODE_DIGITS}..{MAX_BARCODE_DIGITS}",
            )
        if self.id_digits < TOKEN_ID_DIGITS:
            raise TokenError(
                "malformed",
                f"prefix {self.prefix!r} leaves {self.id_digits} digits for the token id; "
                f"it needs {TOKEN_ID_DIGITS}",
            )

    @property
    def id_digits(self) -> int:
        return self.digits - len(self.prefix) - 1


DEFAULT_BARCODE = BarcodeFormat()


def customer_barcode(token_id: int, barcode: BarcodeFormat = DEFAULT_BARCODE) -> str:
    """The Code128 text naming a token: online authorization only."""
    if not 0 <= token_id <= MAX_TOKEN_ID:
        raise TokenError("malformed", f"token id out of range: {token_id}")
    body = f"{barcode.prefix}{token_id:0{barcode.id_digits}d}"
    return body + luhn_check_digit(body)


def parse_customer_barcode(text: str, barcode: BarcodeFormat = DEFAULT_BARCODE) -> int:
    """The token id a scanned numeric code names. Raises TokenError."""
    if len(text) != barcode.digits or not _DIGIT_RUN.fullmatch(text):
        raise TokenError("malformed", f"a customer barcode is {barcode.digits} digits: {text!r}")
    if not text.startswith(barcode.prefix):
        raise TokenError(
            "wrong_issuer",
            f"barcode prefix {text[: len(barcode.prefix)]!r}, expected {barcode.prefix}",
        )
    if luhn_check_digit(text[:-1]) != text[-1]:
        raise TokenError("bad_check_digit", f"check digit of {text!r} does not match")
    token_id = int(text[len(barcode.prefix) : -1])
    if token_id > MAX_TOKEN_ID:
        raise TokenError("malformed", f"token id out of range in {text!r}")
    return token_id


def is_customer_barcode(text: str, barcode: BarcodeFormat = DEFAULT_BARCODE) -> bool:
    """Whether `text` is a well-formed customer barcode of `barcode`'s format."""
    try:
        parse_customer_barcode(text, barcode)
    except TokenError:
        return False
    return True


def scanned_token_id(text: str, barcode: BarcodeFormat = DEFAULT_BARCODE) -> str | None:
    """The token id a scanned customer code names (QR or barcode form), read WITHOUT checking
    its signature, or None when the text is neither form. Only for marking a code as used: the
    seen set must hold every token a sale was made with, whatever the platform's answer said,
    and marking a forged code's id used harms nobody."""
    try:
        if text.isdigit():
            return str(parse_customer_barcode(text, barcode))
        fields = unseal(TOKEN_PREFIX, TOKEN_VERSION, text, _FIELDS.size, _unchecked, TokenError)
    except TokenError:
        return None
    return str(int.from_bytes(_FIELDS.unpack(fields)[1], "big"))


def _unchecked(*_signed) -> bool:
    return True
