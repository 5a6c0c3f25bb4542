"""Payment receipts: platform-signed proof that a charge was paid, shown by the app as a QR.

An offline terminal scans it to confirm a merchant-presented sale. Text: "ER1:" + Base45 of
61 bytes of fields and a 64-byte ES256 signature (192 characters, QR alphanumeric: version 8
at level M). Fields, big-endian: version 1 | key tag 4 | issuer 2 ASCII letters | charge id 20
ASCII | amount 6 (won) | paid at 4 (Unix s) | payment ref 8 | sale digest 16.

The sale digest binds the receipt to the one sale QR that was paid: the first 16 bytes of
SHA-256 of its payload text, which names the merchant, the terminal, the amount, the expiry and
the charge id, and which has exactly one valid text per sale (terminal/core/sale_qr.py). Without
it a receipt named only a charge id: anyone with an enrolled terminal could copy the id from a
victim's screen into a QR of his own, pay himself, and show the victim the real receipt.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass

from terminal.core.ids import IdError, check_charge_id
from terminal.core.sealed import SealedError, SignatureCheck, Signer, seal, unseal

RECEIPT_PREFIX = "ER1:"
RECEIPT_VERSION = 1
SALE_DIGEST_BYTES = 16
_FIELDS = struct.Struct(">2s20s6sI8s16s")
_ISSUER = re.compile(r"[A-Za-z]{2}")


class ReceiptError(SealedError):
    """A receipt that does not prove this sale; `reason` names why."""


def sale_digest(sale_payload: str) -> bytes:
    """What a receipt carries to name the sale QR it pays."""
    return hashlib.sha256(sale_payload.encode("utf-8")).digest()[:SALE_DIGEST_BYTES]


@dataclass(frozen=True)
class PaymentReceipt:
    issuer: str  # two ASCII letters naming the issuing platform
    charge_id: str
    amount_won: int
    paid_at: int
    payment_ref: bytes
    sale_digest: bytes  # sale_digest(the payload of the sale QR that was paid)

    def __post_init__(self) -> None:
        try:
            check_charge_id(self.charge_id)
        except IdError as error:
            raise ReceiptError("malformed", str(error)) from None
        if not isinstance(self.issuer, str) or not _ISSUER.fullmatch(self.issuer):
            raise ReceiptError("malformed", f"issuer must be 2 ASCII letters: {self.issuer!r}")
        for name in ("amount_won", "paid_at"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ReceiptError("malformed", f"{name} must be a whole number: {value!r}")
        if not 1 <= self.amount_won < 2**48 or not 0 <= self.paid_at < 2**32:
            raise ReceiptError("malformed", "amount or payment time out of range")
        if not isinstance(self.payment_ref, bytes) or len(self.payment_ref) != 8:
            raise ReceiptError("malformed", "payment ref must be 8 bytes")
        if not isinstance(self.sale_digest, bytes) or len(self.sale_digest) != SALE_DIGEST_BYTES:
            raise ReceiptError("malformed", f"sale digest must be {SALE_DIGEST_BYTES} bytes")


def build_receipt(receipt: PaymentReceipt, kid: str, sign: Signer) -> str:
    fields = _FIELDS.pack(
        receipt.issuer.encode("ascii"),
        receipt.charge_id.encode("ascii"),
        receipt.amount_won.to_bytes(6, "big"),
        receipt.paid_at,
        receipt.payment_ref,
        receipt.sale_digest,
    )
    return seal(RECEIPT_PREFIX, RECEIPT_VERSION, kid, fields, sign)


def verify_receipt(
    text: str,
    check: SignatureCheck,
    *,
    sale_payload: str,
    charge_id: str,
    amount_won: int,
    expected_issuer: str,
) -> PaymentReceipt:
    """Verifies the signature and that the receipt pays exactly this terminal's sale QR
    (`sale_payload`, the text it showed) for this charge and amount."""
    fields = unseal(RECEIPT_PREFIX, RECEIPT_VERSION, text, _FIELDS.size, check, ReceiptError)
    issuer, charge, amount, paid_at, ref, digest = _FIELDS.unpack(fields)
    try:
        receipt = PaymentReceipt(
            issuer.decode("ascii"),
            charge.decode("ascii"),
            int.from_bytes(amount, "big"),
            paid_at,
            ref,
            digest,
        )
    except UnicodeDecodeError:
        raise ReceiptError("malformed", "issuer or charge id is not ASCII") from None
    if receipt.issuer != expected_issuer:
        raise ReceiptError("wrong_issuer", f"issued by {receipt.issuer!r}")
    if receipt.charge_id != charge_id:
        raise ReceiptError("wrong_charge", f"receipt is for charge {receipt.charge_id}")
    if receipt.amount_won != amount_won:
        raise ReceiptError(
            "wrong_amount", f"receipt is for {receipt.amount_won:,}원, not {amount_won:,}원"
        )
    if receipt.sale_digest != sale_digest(sale_payload):
        raise ReceiptError(
            "wrong_sale",
            "receipt pays another sale QR with this charge id (another merchant or terminal)",
        )
    return receipt
