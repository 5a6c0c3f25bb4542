"""Payments to a shop's printed QR stand (고정형): the wallet pays a verified stand QR with the
amount the customer typed; the terminal fetches its stand's payments since a cursor
(GET /v1/stand-payments) and records each as a sale whose id is the payment id, so its upload
is that payment's one record and a refund of it finds the customer's wallet."""

from __future__ import annotations

import json
import os

from aiohttp import web

from terminal.core.ids import uuid7
from terminal.core.money import MAX_AMOUNT_WON
from terminal.core.session.stand import Stand, StandError, verify_stand_qr
from terminal.signing import key_id, verify_raw
from terminal.sim.platform.auth import device
from terminal.sim.platform.charges import PaymentRefused
from terminal.sim.platform.db import transaction
from terminal.sim.platform.problems import Problem
from terminal.sim.platform.state import PLATFORM, Platform
from terminal.sim.platform.wallets import debit

MAX_PAGE = 100
routes = web.RouteTableDef()


def _check(platform: Platform):
    """The stand's signature check: keys of the certificates the platform issued to the named
    terminal, and only for the merchant that terminal belongs to."""

    def check(merchant_id: str, terminal_id: str, kid: str, message: bytes, signature: bytes):
        if platform.device_merchant(terminal_id) != merchant_id:
            raise LookupError(terminal_id)
        keys = {key_id(k): k for k in platform.device_keys(terminal_id)}
        if kid not in keys:
            raise LookupError(kid)
        return verify_raw(keys[kid], message, signature)

    return check


def pay_stand(platform: Platform, payload: str, amount_won: int, wallet_ref: str) -> dict:
    """The wallet pays `amount_won` to the stand whose signed QR it scanned; returns the
    payment as the terminal will see it. Raises PaymentRefused."""
    if isinstance(amount_won, bool) or not isinstance(amount_won, int):
        raise PaymentRefused("bad_amount", f"the amount must be whole won, got {amount_won!r}")
    if not 1 <= amount_won <= MAX_AMOUNT_WON:
        raise PaymentRefused("bad_amount", f"the amount must be 1..{MAX_AMOUNT_WON:,} won")
    try:
        stand: Stand = verify_stand_qr(payload, _check(platform))
    except StandError as error:
        raise PaymentRefused(error.reason, str(error)) from None
    now = platform.clock.now_ms()
    payment_id = str(uuid7(now, os.urandom(10)))
    with transaction(platform.db):
        benefits = debit(platform, wallet_ref, amount_won, now)
        if benefits is None:
            raise PaymentRefused("insufficient_funds", "the wallet balance is too low")
        platform.db.execute(
            "INSERT INTO stand_payments (payment_id, device_id, stand, amount, paid_ms,"
            " wallet_ref, benefits) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                payment_id,
                stand.terminal_id,
                stand.reference,
                amount_won,
                now,
                wallet_ref,
                json.dumps(benefits.as_dict()),
            ),
        )
    return payments_after(platform, stand.terminal_id, 0, payment_id=payment_id)["payments"][0]


def payments_after(
    platform: Platform, device_id: str, after: int, limit: int = MAX_PAGE, payment_id: str = ""
) -> dict:
    """The device's stand payments with a cursor above `after`, oldest first (at most
    `limit`), and the cursor to ask after next."""
    where = "payment_id = ?" if payment_id else "device_id = ? AND cursor > ?"
    rows = platform.db.execute(
        "SELECT cursor, payment_id, stand, amount, paid_ms, benefits FROM stand_payments"
        f" WHERE {where} ORDER BY cursor LIMIT ?",
        (payment_id, limit) if payment_id else (device_id, after, limit),
    ).fetchall()
    payments = [
        {
            "cursor": cursor,
            "payment_id": pid,
            "stand": stand,
            "amount": amount,
            "paid_at_ms": paid,
            "benefits": json.loads(benefits),
        }
        for cursor, pid, stand, amount, paid, benefits in rows
    ]
    return {"payments": payments, "next_cursor": payments[-1]["cursor"] if payments else after}


def stand_payment(platform: Platform, device_id: str, payment_id: str) -> dict | None:
    """(for uploads and refunds) One payment to this device's stand, with its wallet."""
    row = platform.db.execute(
        "SELECT stand, amount, wallet_ref, benefits FROM stand_payments"
        " WHERE payment_id = ? AND device_id = ?",
        (payment_id, device_id),
    ).fetchone()
    if row is None:
        return None
    return {"stand": row[0], "amount": row[1], "wallet_ref": row[2], "benefits": json.loads(row[3])}


@routes.get("/v1/stand-payments")
async def get_stand_payments(request: web.Request) -> web.Response:
    try:
        after = int(request.query.get("after", "0"))
        limit = int(request.query.get("limit", str(MAX_PAGE)))
    except ValueError:
        raise Problem(400, "park", "invalid_request", "after and limit are whole numbers") from None
    page = payments_after(
        request.app[PLATFORM], device(request).device_id, after, max(1, min(limit, MAX_PAGE))
    )
    return web.json_response(page)
