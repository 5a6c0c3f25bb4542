"""Settling offline CPM sales at upload: the token a terminal accepted without the platform is
checked against the token the platform issued, the customer's wallet is debited once and the
token is marked used. A sale the platform cannot settle is stored all the same (the merchant
was told "approved" and the goods are gone) and flagged for the operator; docs/protocol.md
§Settlement of offline sales."""

from __future__ import annotations

import json
from dataclasses import dataclass

from terminal.core.benefits import Benefits
from terminal.core.records import Record
from terminal.core.tokens import CLOCK_SKEW_SECONDS, MAX_TOKEN_ID
from terminal.sim.platform.state import Platform
from terminal.sim.platform.wallets import OFFLINE_CAP_WON, debit

# Flags in upload results and the operator's list, most telling first.
FLAGS = (
    "token_reused",  # the token paid already: online anywhere, or an earlier offline record
    "unknown_token",  # the platform never issued this token id
    "token_expired",  # the record's time is past the token's expiry
    "token_not_yet_valid",  # the record's time is before the token was issued (less the skew)
    "over_offline_cap",  # more than the token lets a terminal accept offline
    "insufficient_funds",  # the wallet could not pay: nothing debited
)


@dataclass(frozen=True)
class Settled:
    """What the platform holds for one offline sale: the wallet debited (None: nothing) and the
    benefits it earned, or the flag that says why it was not settled."""

    wallet_ref: str | None
    benefits: Benefits | None
    flag: str | None


def is_offline_cpm_sale(record: Record) -> bool:
    return record.kind == "sale" and record.method == "cpm" and record.offline


def _token_id(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_TOKEN_ID)):
        return None
    token_id = int(text)
    return token_id if token_id <= MAX_TOKEN_ID else None


def _decide(platform: Platform, record: Record, token_id: int | None) -> Settled:
    """Marks the token used and debits the wallet when the sale is good. In a transaction."""
    row = None
    if token_id is not None:
        row = platform.db.execute(
            "SELECT wallet_ref, issued_s, expires_s, used_by FROM tokens WHERE token_id = ?",
            (token_id,),
        ).fetchone()
    if row is None:
        return Settled(None, None, "unknown_token")
    wallet_ref, issued_s, expires_s, used_by = row
    if used_by is not None:
        return Settled(None, None, "token_reused")  # the customer paid once: never debit again
    # Whatever else is wrong, the token was spent at this terminal: no second use anywhere.
    platform.db.execute(
        "UPDATE tokens SET used_by = ? WHERE token_id = ?", (record.txn_id, token_id)
    )
    # The same window the terminal applied (terminal/core/tokens.py), on the record's clock.
    at_s = record.time_ms // 1000
    if at_s >= expires_s:
        return Settled(None, None, "token_expired")
    if at_s < issued_s - CLOCK_SKEW_SECONDS:
        return Settled(None, None, "token_not_yet_valid")
    if record.amount_won > OFFLINE_CAP_WON:
        return Settled(None, None, "over_offline_cap")
    benefits = debit(platform, wallet_ref, record.amount_won, record.time_ms)
    if benefits is None:
        return Settled(None, None, "insufficient_funds")
    return Settled(wallet_ref, benefits, None)


def settle_offline_sale(platform: Platform, device_id: str, record: Record) -> str | None:
    """Settles an offline CPM sale being stored; returns its flag (None: settled). Call inside
    the upload's transaction, once per stored record."""
    text = record.refs.get("token_id", "")
    settled = _decide(platform, record, _token_id(text))
    benefits = json.dumps(settled.benefits.as_dict()) if settled.benefits is not None else None
    platform.db.execute(
        "INSERT INTO settlements (device_id, txn_id, token_id, wallet_ref, amount, benefits,"
        " flag, settled_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            device_id,
            record.txn_id,
            text,
            settled.wallet_ref,
            record.amount_won,
            benefits,
            settled.flag,
            platform.clock.now_ms(),
        ),
    )
    return settled.flag


def flag_of(platform: Platform, device_id: str, txn_id: str) -> str | None:
    row = platform.db.execute(
        "SELECT flag FROM settlements WHERE device_id = ? AND txn_id = ?", (device_id, txn_id)
    ).fetchone()
    return row[0] if row else None


def settled_sale(
    platform: Platform, device_id: str, txn_id: str
) -> tuple[int, Benefits, str] | None:
    """(amount, benefits, wallet) of an offline sale the platform settled, for its refunds."""
    row = platform.db.execute(
        "SELECT amount, benefits, wallet_ref FROM settlements WHERE device_id = ? AND txn_id = ?"
        " AND flag IS NULL",
        (device_id, txn_id),
    ).fetchone()
    if row is None:
        return None
    saved = json.loads(row[1])
    return row[0], Benefits(saved["city_won"], saved["district_won"], saved["merchant_won"]), row[2]


def flagged(platform: Platform, device_id: str | None = None) -> dict:
    """What the operator looks at: counts per flag and the flagged sales, oldest first."""
    where, args = ("WHERE flag IS NOT NULL", ())
    if device_id is not None:
        where, args = where + " AND device_id = ?", (device_id,)
    rows = platform.db.execute(
        f"SELECT device_id, txn_id, token_id, amount, flag FROM settlements {where}"
        " ORDER BY settled_ms, rowid",
        args,
    ).fetchall()
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[4]] = counts.get(row[4], 0) + 1
    sales = [
        {"device_id": d, "txn_id": t, "token_id": k, "amount": a, "flag": f}
        for d, t, k, a, f in rows
    ]
    return {"counts": counts, "sales": sales}
