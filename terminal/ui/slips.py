"""What a printed slip says about one of today's transactions (the drawing is receipt_image's)."""

from __future__ import annotations

from datetime import datetime

from terminal.core.session.model import TxnEntry
from terminal.ui.receipt_image import MerchantFacts, Slip

METHOD_TEXT = {"mpm": "QR (가맹점 제시)", "cpm": "QR (고객 제시)"}


def merchant_facts(config) -> MerchantFacts:
    m = config.merchant
    return MerchantFacts(
        m.name_ko, m.business_number, m.address_ko, m.representative_ko, m.tax == "exempt",
        config.device.id,
    )  # fmt: skip


def slip_for(
    config, entry: TxnEntry, at: datetime, copy: bool = False, original: TxnEntry | None = None
) -> Slip:
    """`original`: the sale a refund reverses, whose approval number the refund slip quotes."""
    method = f"{config.issuer.name_ko} {METHOD_TEXT.get(entry.method, entry.method)}"
    if entry.offline:
        method += " 오프라인"
    if copy:
        method += " (재발행)"
    layers = (("시 캐시백", entry.city_won), ("구 캐시백", entry.district_won),
              ("상생 캐시백", entry.merchant_won))  # fmt: skip
    return Slip(
        kind="sale" if entry.is_payment else "refund",
        merchant=merchant_facts(config),
        at=at,
        list_won=entry.gross_won,
        discount_won=entry.discount_won,
        method=method,
        approval_number=entry.approval,
        txn_id=entry.txn_id,
        seq=entry.seq,
        cashback=tuple((name, abs(won)) for name, won in layers if won),
        receipt_url=config.printer.receipt_url + entry.txn_id,
        original_txn_id=entry.original_txn,
        original_approval_number=original.approval if original is not None else "",
    )
