"""Payment receipts: platform-signed proof that a charge was paid, shown by the app as a QR.

An offline terminal scans it to confirm a merchant-presented sale. Text: "ER1:" + Base45 of
45 bytes of fields and a 64-byte ES256 signature (168 characters, QR alphanumeric:
version 6 at level M). Fields,
big-endian: version 1 | key tag 4 | issuer 2 ASCII | charge id 20 ASCII | amount 6 (won) |
paid at 4 (Unix s) | payment ref 8.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from terminal.core.ids import IdError, check_charge_id
from terminal.core.sealed import SealedError, SignatureCheck, Signer, seal, unseal

RECEIPT_PREFIX = "ER1:"
RECEIPT_VERSION = 1
_FIELDS = struct.Struct(">2s20s6sI8s")


class ReceiptError(SealedError):
    """A receipt that does not prove this sale; `reason` names why."""


@dataclass(frozen=True)
class PaymentReceipt:
    issuer: str
    charge_id: str
    amount_won: int
    paid_at: int
    payment_ref: bytes

    def __post_init__(self) -> None:
        try:
            check_charge_id(self.charge_id)
        except IdError as error:
            raise ReceiptError("malformed", str(error)) from None
        if not 1 <= self.amount_won < 2**48 or not 0 <= self.paid_at < 2**32:
            raise ReceiptError("malformed", "amount or payment time out of range")
        if len(self.payment_ref) != 8 or len(self.issuer) != 2 or not self.issuer.isalpha():
            raise ReceiptError("malformed", "payment ref must be 8 bytes, issuer 2 letters")


def build_receipt(receipt: PaymentReceipt, kid: str, sign: Signer) -> str:
    fields = _FIELDS.pack(
        receipt.issuer.encode("ascii"),
        receipt.charge_id.encode("ascii"),
        receipt.amount_won.to_bytes(6, "big"),
        receipt.paid_at,
        receipt.payment_ref,
    )
    return seal(RECEIPT_PREFIX, RECEIPT_VERSION, kid, fields, sign)


def verify_receipt(
    text: str, check: SignatureCheck, *, charge_id: str, amount_won: int, expected_issuer: str
) -> PaymentReceipt:
    """Verifies the signature and that the receipt is for exactly this charge and amount."""
    fields = unseal(RECEIPT_PREFIX, RECEIPT_VERSION, text, _FIELDS.size, check, ReceiptError)
    issuer, charge, amount, paid_at, ref = _FIELDS.unpack(fields)
    try:
        receipt = PaymentReceipt(
            issuer.decode("ascii"),
            charge.decode("ascii"),
            int.from_bytes(amount, "big"),
            paid_at,
            ref,
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
    return receipt
