"""Day figures from today's transactions: the Z report, 선할인, what is left to refund.

The CSV report (`qr-terminal report`) and the close screen use these same functions, so the
rows an accountant adds up give exactly the Z report's figures.
"""

from __future__ import annotations

from collections.abc import Iterable

from terminal.core.session.model import TxnEntry, ZReport

BP_PER_WHOLE = 10_000
VAT_RATE_PERCENT = 10  # Korean VAT; shop prices include it


def upfront_discount(list_won: int, discount_bp: int) -> int:
    """선할인 on a list amount: floored to the won, so the customer never pays a fraction."""
    return list_won * discount_bp // BP_PER_WHOLE


def split_vat(gross_won: int) -> tuple[int, int]:
    """(supply, VAT) of a VAT-inclusive amount: supply rounded half up, VAT the rest."""
    supply = (gross_won * 100 * 2 + (100 + VAT_RATE_PERCENT)) // ((100 + VAT_RATE_PERCENT) * 2)
    return supply, gross_won - supply


def refunded_won(entries: Iterable[TxnEntry], txn_id: str) -> int:
    return sum(e.amount_won for e in entries if e.original_txn == txn_id)


def remaining_won(entries: tuple[TxnEntry, ...], sale: TxnEntry) -> int:
    """What is left to refund of `sale`: its amount less every refund or void of it."""
    return max(0, sale.amount_won - refunded_won(entries, sale.txn_id))


def signed_amount(entry: TxnEntry) -> int:
    """What the transaction adds to the day's net takings."""
    return entry.amount_won if entry.is_payment else -entry.amount_won


def z_report(entries: Iterable[TxnEntry], close_seq: int = 0) -> ZReport:
    counts = {"sales": 0, "mpm": 0, "cpm": 0, "stand": 0, "offline": 0, "refund": 0}
    sums = {"sales": 0, "mpm": 0, "cpm": 0, "stand": 0, "refund": 0, "discount": 0, "cash": 0}
    for entry in entries:
        sums["cash"] += entry.cashback_won
        if entry.kind == "stand":
            counts["stand"] += 1
            sums["stand"] += entry.amount_won
        elif entry.kind == "sale":
            counts["sales"] += 1
            sums["sales"] += entry.amount_won
            counts[entry.method] += 1
            sums[entry.method] += entry.amount_won
            counts["offline"] += int(entry.offline)
            sums["discount"] += entry.discount_won
        else:
            counts["refund"] += 1
            sums["refund"] += entry.amount_won
            sums["discount"] += entry.discount_won  # negative: the refund's share given back
    net = sums["sales"] + sums["stand"] - sums["refund"]
    supply, vat = split_vat(net)
    return ZReport(
        sales_count=counts["sales"],
        sales_won=sums["sales"],
        mpm_count=counts["mpm"],
        mpm_won=sums["mpm"],
        cpm_count=counts["cpm"],
        cpm_won=sums["cpm"],
        stand_count=counts["stand"],
        stand_won=sums["stand"],
        offline_count=counts["offline"],
        refund_count=counts["refund"],
        refund_won=sums["refund"],
        discount_won=sums["discount"],
        cashback_won=sums["cash"],
        net_won=net,
        supply_won=supply,
        vat_won=vat,
        close_seq=close_seq,
    )
