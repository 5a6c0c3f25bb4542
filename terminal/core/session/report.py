"""Day figures from today's transactions: the Z report, 선할인, what is left to refund.

The CSV report (`qr-terminal report`) and the close screen use these same functions, so the
rows an accountant adds up give exactly the Z report's figures.
"""

from __future__ import annotations

from collections.abc import Iterable

from terminal.core.benefits import BenefitRates, price_sale
from terminal.core.records import Record
from terminal.core.session.model import TxnEntry, ZReport
from terminal.core.session.stand import is_stand_reference

BP_PER_WHOLE = 10_000
VAT_RATE_PERCENT = 10  # Korean VAT; shop prices include it


def upfront_discount(list_won: int, discount_bp: int) -> int:
    """선할인 on a list amount (price_sale's rule: floored to the won, so the customer never
    pays a fraction), for screens that show a rate."""
    rates = BenefitRates(0, 0, 0, 0, 0, merchant_discount_bp=discount_bp)
    return price_sale(list_won, rates).discount_won


def split_vat(gross_won: int) -> tuple[int, int]:
    """(supply, VAT) of a VAT-inclusive amount: VAT is 1/11 rounded half up (as the printed
    receipt says), supply the rest; a negative amount (a refund) mirrors a positive one."""
    sign = -1 if gross_won < 0 else 1
    vat = (abs(gross_won) * 2 + 11) // 22
    return sign * (abs(gross_won) - vat), sign * vat


def refunded_won(entries: Iterable[TxnEntry], txn_id: str) -> int:
    return sum(e.amount_won for e in entries if e.original_txn == txn_id)


def remaining_won(entries: tuple[TxnEntry, ...], sale: TxnEntry) -> int:
    """What is left to refund of `sale`: its amount less every refund or void of it."""
    return max(0, sale.amount_won - refunded_won(entries, sale.txn_id))


def signed_amount(entry: TxnEntry) -> int:
    """What the transaction adds to the day's net takings."""
    return entry.amount_won if entry.is_payment else -entry.amount_won


def z_report(entries: Iterable[TxnEntry], close_seq: int = 0) -> ZReport:
    vat = supply = 0
    counts = {"sales": 0, "mpm": 0, "cpm": 0, "stand": 0, "offline": 0, "refund": 0}
    sums = {"sales": 0, "mpm": 0, "cpm": 0, "stand": 0, "refund": 0, "discount": 0, "cash": 0}
    for entry in entries:
        # VAT per transaction, as each receipt shows it: the rows of the CSV add up to this.
        row_supply, row_vat = split_vat(signed_amount(entry))
        supply, vat = supply + row_supply, vat + row_vat
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
            sums["discount"] -= entry.discount_won  # the refund's share of the 선할인 comes back
    net = sums["sales"] + sums["stand"] - sums["refund"]
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


def entry_from_record(record: Record) -> TxnEntry:
    """How the session and the reports see one journal record (not a day close). A sale whose
    charge reference is a stand's ("STAND-nnnnnn") is a payment to the printed stand."""
    benefits = record.benefits
    charge_id = record.refs.get("charge_id", "")
    stand = record.kind == "sale" and is_stand_reference(charge_id)
    return TxnEntry(
        txn_id=record.txn_id,
        seq=record.seq,
        kind="stand" if stand else record.kind,
        method=record.method or "",
        amount_won=record.amount_won,
        time_ms=record.time_ms,
        offline=record.offline,
        list_won=record.list_won or record.amount_won,
        discount_won=record.discount_won,
        city_won=benefits.get("city_won", 0),
        district_won=benefits.get("district_won", 0),
        merchant_won=benefits.get("merchant_won", 0),
        original_txn=record.refs.get("original_txn", ""),
        token_id=record.refs.get("token_id", ""),
        charge_id=charge_id,
        approval=record.refs.get("approval", ""),
    )


def since_last_close(records: Iterable[Record]) -> tuple[TxnEntry, ...]:
    """The transactions after the newest day close, oldest first: what the next close covers."""
    entries: list[TxnEntry] = []
    for record in records:
        if record.kind == "close":
            entries.clear()
        else:
            entries.append(entry_from_record(record))
    return tuple(entries)
