"""The signed dynamic merchant-presented QR for one sale, and its verification.

Layout (EMV MPM): 00 "01", 01 "12" (dynamic), 26 {00 platform GUID, 01 merchant id,
02 terminal id}, 52 MCC, 53 "410", 54 amount in whole won, 58 "KR", 59/60 romanized name and
city, 62 {05 charge id, 07 terminal label}, 64 {00 "ko", 01 Korean name, 02 Korean city},
80 {00 platform GUID, 01 expiry (Unix s), 02 key id, 03 signature part 1},
81 {00 platform GUID, 01 signature part 2}, 63 CRC.

The signature is ES256 (raw r ‖ s, base64url: 86 characters) by the device key over the UTF-8
bytes of every data object before 80, followed by 80's sub-objects 00, 01 and 02 as TLV. An
EMV object holds at most 99 characters, so the signature is split 43 + 43 over 80 and 81
(hence a GUID of at most 18 characters). Only the CRC may follow 81, so nothing after the
signature can be changed unnoticed.

One sale has exactly one valid payload text: the split is fixed at 43 + 43, the base64url text
must be canonical (unused bits zero) and the signature low-S (terminal/core/signature.py), so a
payload cannot be re-encoded into a twin that dedupes differently.

The key that signs names a device the platform bound to one merchant and terminal: the verifier's
key resolver is given the merchant id and terminal id from the payload along with the key id and
must accept only a key bound to that pair, so an enrolled device cannot sign another shop's QR.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable
from dataclasses import dataclass

from terminal.core import emv
from terminal.core.base64url import b64url, b64url_decode
from terminal.core.emv import DataObject, EmvError
from terminal.core.ids import IdError, check_charge_id
from terminal.core.money import AmountError, require_won
from terminal.core.signature import is_canonical

SIGNATURE_TEMPLATE = "80"
SIGNATURE_TAIL = "81"
SIGNATURE_CHARS = 86  # base64url of 64 bytes, unpadded
_HALF = SIGNATURE_CHARS // 2

# sign(message) -> 64-byte raw ES256 signature
SaleSigner = Callable[[bytes], bytes]
# check(merchant_id, terminal_id, key_id, message, signature) -> bool; raises LookupError when
# no key with that id is bound to that merchant and terminal.
SaleSignatureCheck = Callable[[str, str, str, bytes, bytes], bool]


class SaleQrError(ValueError):
    """A sale QR the app or terminal must refuse.

    `reason`: malformed, not_dynamic, unsigned, altered, unknown_key, bad_signature, expired.
    """

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(f"{reason}: {message}")


@dataclass(frozen=True)
class SaleQr:
    platform_guid: str
    merchant_id: str
    terminal_id: str
    mcc: str
    amount_won: int
    name_en: str
    city_en: str
    name_ko: str
    city_ko: str
    charge_id: str
    terminal_label: str
    expires_at: int  # Unix seconds
    key_id: str


def merchant_account_template(platform_guid: str, merchant_id: str, terminal_id: str) -> DataObject:
    """Merchant account information (26), the same in the sale QR and the printed stand: the
    platform's GUID, the merchant id and the terminal id the signing key must be bound to."""
    return DataObject(
        "26",
        (
            DataObject("00", platform_guid),
            DataObject("01", merchant_id),
            DataObject("02", terminal_id),
        ),
    )


def merchant_language_template(name_ko: str, city_ko: str) -> DataObject:
    """The merchant's name and city in Korean (64), the same in the sale QR and the stand."""
    return DataObject(
        "64", (DataObject("00", "ko"), DataObject("01", name_ko), DataObject("02", city_ko))
    )


def signature_templates(
    head: emv.Objects, platform_guid: str, signature_text: str
) -> tuple[DataObject, DataObject]:
    """80 (the signed head, then the signature's first half) and 81 (its second half): an EMV
    object holds at most 99 characters, so the 86 characters are split 43 + 43."""
    return (
        DataObject(SIGNATURE_TEMPLATE, (*head, DataObject("03", signature_text[:_HALF]))),
        DataObject(
            SIGNATURE_TAIL,
            (DataObject("00", platform_guid), DataObject("01", signature_text[_HALF:])),
        ),
    )


def _unsigned_objects(sale: SaleQr) -> emv.Objects:
    return (
        DataObject("00", "01"),
        DataObject("01", "12"),
        merchant_account_template(sale.platform_guid, sale.merchant_id, sale.terminal_id),
        DataObject("52", sale.mcc),
        DataObject("53", emv.KRW),
        DataObject("54", str(sale.amount_won)),
        DataObject("58", "KR"),
        DataObject("59", sale.name_en),
        DataObject("60", sale.city_en),
        DataObject("62", (DataObject("05", sale.charge_id), DataObject("07", sale.terminal_label))),
        merchant_language_template(sale.name_ko, sale.city_ko),
    )


def _signature_head(sale: SaleQr) -> emv.Objects:
    return (
        DataObject("00", sale.platform_guid),
        DataObject("01", str(sale.expires_at)),
        DataObject("02", sale.key_id),
    )


def signed_message(objects_before: emv.Objects, head: emv.Objects) -> bytes:
    text = emv.encode_unchecked_prefix(objects_before) + emv.encode_unchecked_prefix(head)
    return text.encode("utf-8")


def build_sale_qr(sale: SaleQr, sign: SaleSigner) -> str:
    """The payload text of a signed sale QR. Raises SaleQrError naming the bad field."""
    try:
        require_won(sale.amount_won)
        check_charge_id(sale.charge_id)
    except (AmountError, IdError) as error:
        raise SaleQrError("malformed", str(error)) from None
    objects, head = _unsigned_objects(sale), _signature_head(sale)
    signature = sign(signed_message(objects, head))
    if len(signature) != 64:
        raise SaleQrError("malformed", f"signer returned {len(signature)} bytes, expected 64")
    signed = signature_templates(head, sale.platform_guid, b64url(signature))
    try:
        return emv.encode((*objects, *signed), strict=True)
    except EmvError as error:
        raise SaleQrError("malformed", str(error)) from None


class SignatureLayoutError(ValueError):
    """Templates 80 and 81 are not exactly what `signature_templates` makes. `reason`: unsigned,
    altered, malformed or bad_signature; each reader re-raises it as its own error type."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        self.detail = message
        super().__init__(f"{reason}: {message}")


@dataclass(frozen=True)
class SignedParts:
    """What `read_signature` found: the signed objects, 80's signed head and the signature."""

    body: emv.Objects  # every object before 80
    head: emv.Objects  # 80's 00 (GUID), 01 (expiry), 02 (key id)
    signature: bytes  # 64 bytes, canonical and low-S

    @property
    def message(self) -> bytes:
        return signed_message(self.body, self.head)

    @property
    def expiry_text(self) -> str:
        return self.head[1].text()

    @property
    def key_id(self) -> str:
        return self.head[2].text()


def read_signature(objects: emv.Objects) -> SignedParts:
    """The signature half of reading a sale QR or a stand: 80 and 81 must be the last objects,
    80 must hold exactly 00, 01, 02, 03 and 81 exactly 00, 01, both with the same GUID, and the
    signature must be split 43 + 43 in canonical base64url, low-S. Nothing else is allowed in
    80 or 81: an object there would be covered by no signature. The caller checks that `body`
    and `head` are exactly its own layout. Raises SignatureLayoutError."""
    ids = [o.id for o in objects]
    if SIGNATURE_TEMPLATE not in ids or SIGNATURE_TAIL not in ids:
        raise SignatureLayoutError("unsigned", "no signature templates 80 and 81")
    if ids[-2:] != [SIGNATURE_TEMPLATE, SIGNATURE_TAIL]:
        raise SignatureLayoutError("altered", f"object {ids[-1]} follows the signature")
    template, tail = objects[-2], objects[-1]
    if [c.id for c in template.value] != ["00", "01", "02", "03"]:
        raise SignatureLayoutError("unsigned", "template 80 must hold exactly 00, 01, 02, 03")
    if [c.id for c in tail.value] != ["00", "01"]:
        raise SignatureLayoutError("unsigned", "template 81 must hold exactly 00, 01")
    if tail.sub("00") != template.sub("00"):
        raise SignatureLayoutError("malformed", "templates 80 and 81 name different GUIDs")
    head_part, tail_part = template.sub("03") or "", tail.sub("01") or ""
    if len(head_part) != _HALF or len(tail_part) != _HALF:
        raise SignatureLayoutError(
            "malformed", f"the signature must be split {_HALF} + {_HALF} over 80-03 and 81-01"
        )
    try:
        signature = b64url_decode(head_part + tail_part)
    except (ValueError, binascii.Error) as error:
        raise SignatureLayoutError("bad_signature", f"signature text: {error}") from None
    if not is_canonical(signature):
        raise SignatureLayoutError(
            "bad_signature", "the signature is not in canonical (low-S) form"
        )
    return SignedParts(objects[:-2], template.value[:3], signature)


def read_sale_qr(payload: str) -> tuple[SaleQr, bytes, bytes]:
    """Parses a sale QR without checking its signature: (fields, signed message, signature)."""
    try:
        objects = emv.parse(payload, strict=True)
    except EmvError as error:
        raise SaleQrError("malformed", str(error)) from None
    values = {obj.id: obj for obj in objects}
    if "01" not in values or values["01"].text() != "12":
        raise SaleQrError("not_dynamic", "point of initiation is not 12 (dynamic)")
    try:
        signed = read_signature(objects)
    except SignatureLayoutError as error:
        raise SaleQrError(error.reason, error.detail) from None
    try:
        account, extra, language = values["26"], values["62"], values["64"]
        amount = values["54"].text()
        sale = SaleQr(
            platform_guid=account.sub("00") or "",
            merchant_id=account.sub("01") or "",
            terminal_id=account.sub("02") or "",
            mcc=values["52"].text(),
            amount_won=int(amount),
            name_en=values["59"].text(),
            city_en=values["60"].text(),
            name_ko=language.sub("01") or "",
            city_ko=language.sub("02") or "",
            charge_id=extra.sub("05") or "",
            terminal_label=extra.sub("07") or "",
            expires_at=int(signed.expiry_text),
            key_id=signed.key_id,
        )
    except (KeyError, ValueError, TypeError) as error:
        raise SaleQrError("malformed", f"a sale field is missing or malformed: {error}") from None
    if values["53"].text() != emv.KRW:
        raise SaleQrError("malformed", "currency is not 410 (KRW)")
    if _unsigned_objects(sale) != signed.body or _signature_head(sale) != signed.head:
        # Each field has one spelling (no leading zeros, no "+", ASCII digits only), and the
        # signature templates name the platform of 26.
        raise SaleQrError("malformed", "objects differ from the sale QR layout")
    return sale, signed.message, signed.signature


def verify_sale_qr(payload: str, check: SaleSignatureCheck, now: int) -> SaleQr:
    """Verifies a sale QR: layout, signature by the key bound to its merchant and terminal, then
    expiry."""
    sale, message, signature = read_sale_qr(payload)
    try:
        valid = check(sale.merchant_id, sale.terminal_id, sale.key_id, message, signature)
    except LookupError:
        raise SaleQrError(
            "unknown_key",
            f"no device key {sale.key_id!r} is bound to merchant {sale.merchant_id!r} and "
            f"terminal {sale.terminal_id!r}",
        ) from None
    if not valid:
        raise SaleQrError("bad_signature", "signature does not match the payload")
    if now >= sale.expires_at:
        raise SaleQrError("expired", f"expired at {sale.expires_at}, now {now}")
    return sale
