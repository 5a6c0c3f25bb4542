"""The printed QR stand (고정형 QR): a static merchant-presented QR for when the terminal is down.

Laid out like the dynamic sale QR (terminal/core/sale_qr.py) but static: point of initiation
"11", no amount (the customer's app asks for it), and the stand's serial number as the
reference label (62-05, "STAND-" + 6 digits). Signed the same way by the device key over every
object before 80 and 80's 00, 01, 02, where 80-01 is "0": a stand does not expire. The platform
accepts payments to it and the terminal learns of them at its next sync.
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core import emv
from terminal.core.base64url import b64url
from terminal.core.emv import DataObject
from terminal.core.sale_qr import (
    SIGNATURE_CHARS,
    SIGNATURE_TAIL,
    SIGNATURE_TEMPLATE,
    signed_message,
)

NEVER_EXPIRES = "0"
MAX_SERIAL = 999_999


class StandError(ValueError):
    """A stand that cannot be made: the message names the field."""


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
        return f"STAND-{self.serial:06d}"


def _objects(stand: Stand) -> emv.Objects:
    return (
        DataObject("00", "01"),
        DataObject("01", "11"),
        DataObject(
            "26",
            (
                DataObject("00", stand.platform_guid),
                DataObject("01", stand.merchant_id),
                DataObject("02", stand.terminal_id),
            ),
        ),
        DataObject("52", stand.mcc),
        DataObject("53", emv.KRW),
        DataObject("58", "KR"),
        DataObject("59", stand.name_en),
        DataObject("60", stand.city_en),
        DataObject("62", (DataObject("05", stand.reference), DataObject("07", stand.terminal_id))),
        DataObject(
            "64",
            (
                DataObject("00", "ko"),
                DataObject("01", stand.name_ko),
                DataObject("02", stand.city_ko),
            ),
        ),
    )


def build_stand_qr(stand: Stand, sign) -> str:
    """The payload text of a signed static stand QR. Raises StandError."""
    if not 1 <= stand.serial <= MAX_SERIAL:
        raise StandError(f"serial must be 1..{MAX_SERIAL}, got {stand.serial}")
    objects = _objects(stand)
    head = (
        DataObject("00", stand.platform_guid),
        DataObject("01", NEVER_EXPIRES),
        DataObject("02", stand.key_id),
    )
    signature = sign(signed_message(objects, head))
    text = b64url(signature)
    if len(text) != SIGNATURE_CHARS:
        raise StandError(f"signer returned {len(signature)} bytes, expected 64")
    half = SIGNATURE_CHARS // 2
    template = DataObject(SIGNATURE_TEMPLATE, (*head, DataObject("03", text[:half])))
    tail = DataObject(
        SIGNATURE_TAIL, (DataObject("00", stand.platform_guid), DataObject("01", text[half:]))
    )
    try:
        return emv.encode((*objects, template, tail), strict=True)
    except emv.EmvError as error:
        raise StandError(str(error)) from None
