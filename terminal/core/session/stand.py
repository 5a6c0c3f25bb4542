"""The printed QR stand (고정형 QR): a static merchant-presented QR for when the terminal is down.

Laid out like the dynamic sale QR, from the same merchant account (26), Korean name (64) and
signature (80, 81) builders (terminal/core/sale_qr.py), but static: point of initiation
"11", no amount (the customer's app asks for it), and the stand's serial number as the
reference label (62-05, "STAND-" + 6 digits). Signed the same way by the device key over every
object before 80 and 80's 00, 01, 02, where 80-01 is "0": a stand does not expire, and read
with the sale QR's one signature reader (`read_signature`: exactly 80 {00-03} and 81 {00, 01}).
The platform accepts payments to it and the terminal learns of them at its next sync.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from terminal.core import emv
from terminal.core.base64url import b64url
from terminal.core.emv import DataObject, EmvError
from terminal.core.sale_qr import (
    SIGNATURE_CHARS,
    SignatureLayoutError,
    merchant_account_template,
    merchant_language_template,
    read_signature,
    signature_templates,
    signed_message,
)

NEVER_EXPIRES = "0"
MAX_SERIAL = 999_999
REFERENCE_PREFIX = "STAND-"

# check(merchant_id, terminal_id, kid, message, signature) -> bool; LookupError when no key
# `kid` is bound to that merchant and terminal (the sale QR's SaleSignatureCheck).
StandSignatureCheck = Callable[[str, str, str, bytes, bytes], bool]


class StandError(ValueError):
    """A stand that cannot be made or read: the message names the field; `reason` is one of
    malformed, not_static, unsigned, altered, unknown_key, bad_signature (or invalid when making
    one)."""

    def __init__(self, message: str, reason: str = "invalid"):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Stand:
    platform_guid: str
    merchant_id: str
    terminal_id: str
    mcc: str
    name_en: str
    city_en: str
    name_ko: str
    city_ko: str
    serial: int
    key_id: str

    @property
    def reference(self) -> str:
        return stand_reference(self.serial)


def stand_reference(serial: int) -> str:
    """The stand's label in its QR (62-05) and in the records of payments to it."""
    return f"{REFERENCE_PREFIX}{serial:06d}"


def is_stand_reference(text: str) -> bool:
    digits = text[len(REFERENCE_PREFIX) :]
    return text.startswith(REFERENCE_PREFIX) and len(digits) == 6 and digits.isdigit()


def _objects(stand: Stand) -> emv.Objects:
    return (
        DataObject("00", "01"),
        DataObject("01", "11"),
        merchant_account_template(stand.platform_guid, stand.merchant_id, stand.terminal_id),
        DataObject("52", stand.mcc),
        DataObject("53", emv.KRW),
        DataObject("58", "KR"),
        DataObject("59", stand.name_en),
        DataObject("60", stand.city_en),
        DataObject("62", (DataObject("05", stand.reference), DataObject("07", stand.terminal_id))),
        merchant_language_template(stand.name_ko, stand.city_ko),
    )


def build_stand_qr(stand: Stand, sign) -> str:
    """The payload text of a signed static stand QR. Raises StandError."""
    if not 1 <= stand.serial <= MAX_SERIAL:
        raise StandError(f"serial must be 1..{MAX_SERIAL}, got {stand.serial}")
    objects = _objects(stand)
    head = _head(stand)
    signature = sign(signed_message(objects, head))
    text = b64url(signature)
    if len(text) != SIGNATURE_CHARS:
        raise StandError(f"signer returned {len(signature)} bytes, expected 64")
    signed = signature_templates(head, stand.platform_guid, text)
    try:
        return emv.encode((*objects, *signed), strict=True)
    except emv.EmvError as error:
        raise StandError(str(error)) from None


def _head(stand: Stand) -> emv.Objects:
    return (
        DataObject("00", stand.platform_guid),
        DataObject("01", NEVER_EXPIRES),
        DataObject("02", stand.key_id),
    )


def read_stand_qr(payload: str) -> tuple[Stand, bytes, bytes]:
    """Parses a stand QR without checking its signature: (stand, signed message, signature).
    Raises StandError."""
    try:
        objects = emv.parse(payload, strict=True)
    except EmvError as error:
        raise StandError(str(error), "malformed") from None
    values = {obj.id: obj for obj in objects}
    if "01" not in values or values["01"].text() != "11":
        raise StandError("point of initiation is not 11 (static)", "not_static")
    try:
        signed = read_signature(objects)
    except SignatureLayoutError as error:
        raise StandError(error.detail, error.reason) from None
    try:
        account, extra, language = values["26"], values["62"], values["64"]
        reference = extra.sub("05") or ""
        if not is_stand_reference(reference):
            raise ValueError(f"reference {reference!r} is not STAND-nnnnnn")
        stand = Stand(
            platform_guid=account.sub("00") or "",
            merchant_id=account.sub("01") or "",
            terminal_id=account.sub("02") or "",
            mcc=values["52"].text(),
            name_en=values["59"].text(),
            city_en=values["60"].text(),
            name_ko=language.sub("01") or "",
            city_ko=language.sub("02") or "",
            serial=int(reference[len(REFERENCE_PREFIX) :]),
            key_id=signed.key_id,
        )
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise StandError(f"a stand field is missing or malformed: {error}", "malformed") from None
    # One spelling per stand: anything but exactly the layout build_stand_qr makes is refused.
    if _objects(stand) != signed.body or _head(stand) != signed.head:
        raise StandError("objects differ from the stand QR layout", "malformed")
    return stand, signed.message, signed.signature


def verify_stand_qr(payload: str, check: StandSignatureCheck) -> Stand:
    """The stand, if its QR is signed by a key bound to its merchant and terminal (a stand
    does not expire). Raises StandError."""
    stand, message, signature = read_stand_qr(payload)
    try:
        valid = check(stand.merchant_id, stand.terminal_id, stand.key_id, message, signature)
    except LookupError:
        raise StandError(
            f"no device key {stand.key_id!r} is bound to merchant {stand.merchant_id!r} and "
            f"terminal {stand.terminal_id!r}",
            "unknown_key",
        ) from None
    if not valid:
        raise StandError("the signature does not match the stand", "bad_signature")
    return stand
