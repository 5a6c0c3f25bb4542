"""Customer wallets at the platform: balances, month-to-date cashback, and the one-time tokens
they show (QR "EU1:…" signed by the platform key, and the numeric Code128 form)."""

from __future__ import annotations

import datetime
import os
import secrets
from dataclasses import dataclass

from terminal.core.benefits import Benefits, MonthToDate, sale_benefits
from terminal.core.tokens import (
    MAX_TOKEN_ID,
    TOKEN_LIFETIME_SECONDS,
    CustomerToken,
    build_customer_token,
    customer_barcode,
)
from terminal.sim.platform.state import ISSUER, Platform

OFFLINE_CAP_WON = 50_000  # what a token lets a terminal accept without the platform
# Every id up to MAX_TOKEN_ID has a QR form (7 bytes) and a barcode form.
TOKEN_ID_LIMIT = MAX_TOKEN_ID


@dataclass(frozen=True)
class IssuedToken:
    token_id: int
    qr_text: str  # for the QR code
    barcode_text: str  # for the Code128 barcode (online only)
    expires_at: int  # Unix seconds


def open_wallet(platform: Platform, balance_won: int) -> str:
    """A new wallet holding `balance_won`; returns its reference (16 hex digits)."""
    wallet_ref = os.urandom(8).hex()
    platform.db.execute(
        "INSERT INTO wallets (wallet_ref, balance) VALUES (?, ?)", (wallet_ref, balance_won)
    )
    return wallet_ref


def balance(platform: Platform, wallet_ref: str) -> int | None:
    row = platform.db.execute(
        "SELECT balance FROM wallets WHERE wallet_ref = ?", (wallet_ref,)
    ).fetchone()
    return row[0] if row else None


def issue_token(platform: Platform, wallet_ref: str) -> IssuedToken:
    if balance(platform, wallet_ref) is None:
        raise LookupError(f"no wallet {wallet_ref}")
    now = platform.clock.now_s()
    while True:
        token_id = secrets.randbelow(TOKEN_ID_LIMIT) + 1
        cursor = platform.db.execute(
            "INSERT OR IGNORE INTO tokens (token_id, wallet_ref, issued_s, expires_s)"
            " VALUES (?, ?, ?, ?)",
            (token_id, wallet_ref, now, now + TOKEN_LIFETIME_SECONDS),
        )
        if cursor.rowcount == 1:
            break
    token = CustomerToken(
        ISSUER, token_id, bytes.fromhex(wallet_ref), now, TOKEN_LIFETIME_SECONDS, OFFLINE_CAP_WON
    )
    text = build_customer_token(token, platform.keys.current.kid, platform.keys.current.sign)
    return IssuedToken(token_id, text, customer_barcode(token_id), token.expires_at)


def _month(now_ms: int) -> str:
    return datetime.datetime.fromtimestamp(now_ms / 1000, datetime.UTC).strftime("%Y%m")


def debit(platform: Platform, wallet_ref: str, amount: int, now_ms: int) -> Benefits | None:
    """Takes `amount` from the wallet and credits this month's cashback; None if it cannot pay.
    Call inside a transaction."""
    row = platform.db.execute(
        "SELECT balance, month, city_won, district_won FROM wallets WHERE wallet_ref = ?",
        (wallet_ref,),
    ).fetchone()
    if row is None or row[0] < amount:
        return None
    month = _month(now_ms)
    earned = MonthToDate(row[2], row[3]) if row[1] == month else MonthToDate()
    benefits = sale_benefits(amount, platform.rates(), earned)
    platform.db.execute(
        "UPDATE wallets SET balance = balance - ? + ?, month = ?, city_won = ?, district_won = ?"
        " WHERE wallet_ref = ?",
        (
            amount,
            benefits.total_won,
            month,
            earned.city_won + benefits.city_won,
            earned.district_won + benefits.district_won,
            wallet_ref,
        ),
    )
    return benefits


def credit(platform: Platform, wallet_ref: str, amount: int, benefits: Benefits) -> None:
    """A refund: the money back, the reversed cashback (negative) taken back."""
    platform.db.execute(
        "UPDATE wallets SET balance = balance + ? + ?, city_won = max(0, city_won + ?),"
        " district_won = max(0, district_won + ?) WHERE wallet_ref = ?",
        (amount, benefits.total_won, benefits.city_won, benefits.district_won, wallet_ref),
    )
