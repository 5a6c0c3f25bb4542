"""MPM charges: register (the sale QR must be the device's own), long-poll status, cancel, and
pay (the simulated wallet's side, with the platform-signed receipt)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os

from aiohttp import web

from terminal.core.benefits import Benefits
from terminal.core.receipt import PaymentReceipt, build_receipt, sale_digest
from terminal.core.sale_qr import SaleQrError, read_sale_qr
from terminal.signing import key_id, verify_raw
from terminal.sim.platform.auth import device
from terminal.sim.platform.db import transaction
from terminal.sim.platform.problems import Problem, idempotency_conflict, not_found
from terminal.sim.platform.state import ISSUER, PLATFORM, Device, Platform
from terminal.sim.platform.validation import BODY
from terminal.sim.platform.wallets import debit

MAX_WAIT_SECONDS = 25
MAX_LIFETIME_MS = 60 * 60 * 1000

routes = web.RouteTableDef()


class PaymentRefused(Exception):
    """The wallet cannot pay this charge; `reason` says why."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def _mismatch(detail: str) -> Problem:
    return Problem(422, "park", "sale_qr_mismatch", detail)


def _check_payload(platform: Platform, device_id: str, merchant_id: str, body: dict) -> None:
    """The payload must be a sale QR this device signed, for exactly this charge."""
    try:
        sale, message, signature = read_sale_qr(body["payload"])
    except SaleQrError as error:
        raise _mismatch(f"payload is not a sale QR: {error}") from None
    keys = {key_id(k): k for k in platform.device_keys(device_id)}
    key = keys.get(sale.key_id)
    if key is None or not verify_raw(key, message, signature):
        raise _mismatch("the sale QR is not signed by this device's key")
    expected = {
        "charge id": (sale.charge_id, body["charge_id"]),
        "amount": (sale.amount_won, body["amount"]),
        "terminal id": (sale.terminal_id, device_id),
        "merchant id": (sale.merchant_id, merchant_id),
        "expiry (s)": (sale.expires_at, body["expires_at_ms"] // 1000),
    }
    for name, (in_qr, wanted) in expected.items():
        if in_qr != wanted:
            raise _mismatch(f"{name} in the sale QR is {in_qr!r}, expected {wanted!r}")
    now = platform.clock.now_ms()
    if not now < body["expires_at_ms"] <= now + MAX_LIFETIME_MS:
        raise _mismatch("expires_at_ms must lie in the coming hour")


def _row(platform: Platform, charge_id: str, device_id: str) -> dict:
    """The device's charge: charge ids are keyed per device, another device's is not there."""
    row = platform.db.execute(
        "SELECT charge_id, device_id, amount, expires_ms, payload, status, paid_ms, receipt,"
        " benefits FROM charges WHERE charge_id = ? AND device_id = ?",
        (charge_id, device_id),
    ).fetchone()
    if row is None:
        raise not_found(f"no charge {charge_id} for this device")
    keys = ("charge_id", "device_id", "amount", "expires_ms", "payload", "status", "paid_ms")
    charge = dict(zip(keys, row[:7], strict=True)) | {"receipt": row[7], "benefits": row[8]}
    if charge["status"] == "pending" and platform.clock.now_ms() >= charge["expires_ms"]:
        platform.db.execute(
            "UPDATE charges SET status = 'expired' WHERE charge_id = ? AND device_id = ?"
            " AND status = 'pending'",
            (charge_id, device_id),
        )
        charge["status"] = "expired"
    return charge


def _view(charge: dict) -> dict:
    view = {
        "charge_id": charge["charge_id"],
        "status": charge["status"],
        "amount": charge["amount"],
        "expires_at_ms": charge["expires_ms"],
    }
    if charge["status"] == "paid":
        view |= {"paid_at_ms": charge["paid_ms"], "receipt": charge["receipt"]}
        view["benefits"] = json.loads(charge["benefits"])
    return view


def register(platform: Platform, caller: Device, body: dict) -> tuple[int, dict]:
    row = platform.db.execute(
        "SELECT amount, expires_ms, payload FROM charges WHERE charge_id = ? AND device_id = ?",
        (body["charge_id"], caller.device_id),
    ).fetchone()
    if row is not None:
        asked = (body["amount"], body["expires_at_ms"], body["payload"])
        if tuple(row) != asked:
            raise idempotency_conflict(f"charge {body['charge_id']} exists with other fields")
        return 200, _view(_row(platform, body["charge_id"], caller.device_id))
    _check_payload(platform, caller.device_id, caller.merchant_id, body)
    platform.db.execute(
        "INSERT INTO charges (charge_id, device_id, amount, expires_ms, payload, status,"
        " created_ms) VALUES (?, ?, ?, ?, ?, 'pending', ?)",
        (
            body["charge_id"],
            caller.device_id,
            body["amount"],
            body["expires_at_ms"],
            body["payload"],
            platform.clock.now_ms(),
        ),
    )
    return 201, _view(_row(platform, body["charge_id"], caller.device_id))


async def wait_for_change(platform: Platform, caller: Device, charge_id: str, wait: int) -> dict:
    """The charge, after waiting up to `wait` seconds while it is pending (woken by an event)."""
    charge = _row(platform, charge_id, caller.device_id)
    if charge["status"] == "pending" and wait > 0:
        left_ms = charge["expires_ms"] - platform.clock.now_ms()
        event = platform.charge_event(charge_id)
        for callback in list(platform.on_wait):
            callback(charge_id)
        timeout = max(0, min(wait * 1000, left_ms)) / 1000
        with contextlib.suppress(TimeoutError):  # still pending: answered as such
            await asyncio.wait_for(event.wait(), timeout=timeout)
        charge = _row(platform, charge_id, caller.device_id)
    return _view(charge)


def cancel(platform: Platform, caller: Device, charge_id: str) -> dict:
    charge = _row(platform, charge_id, caller.device_id)
    if charge["status"] == "paid":
        raise Problem(409, "show", "already_paid", "the customer paid this charge: record the sale")
    if charge["status"] == "pending":
        platform.db.execute(
            "UPDATE charges SET status = 'cancelled' WHERE charge_id = ? AND device_id = ?",
            (charge_id, caller.device_id),
        )
        platform.charge_changed(charge_id)
        charge["status"] = "cancelled"
    return _view(charge)


def pay(platform: Platform, charge_id: str, payload: str, wallet_ref: str) -> str:
    """The wallet pays a pending charge for exactly the QR it scanned; returns the receipt.
    The charge is the one of the terminal the QR names: another device's charge under the same
    id is never the one paid."""
    try:
        terminal_id = read_sale_qr(payload)[0].terminal_id
    except SaleQrError as error:
        raise PaymentRefused("unknown_charge", f"no charge {charge_id} ({error})") from None
    try:
        charge = _row(platform, charge_id, terminal_id)
    except Problem:
        # The terminal is offline and could not register the charge: the signed QR itself
        # says who asks for how much, so the platform registers it from the QR and the app
        # shows the customer the receipt for the terminal to scan offline.
        _register_from_qr(platform, charge_id, payload)
        charge = _row(platform, charge_id, terminal_id)
    if charge["status"] != "pending":
        raise PaymentRefused(charge["status"], f"the charge is {charge['status']}")
    if charge["payload"] != payload:
        raise PaymentRefused("payload_mismatch", "the scanned QR is not the one registered")
    now = platform.clock.now_ms()
    with transaction(platform.db):
        benefits = debit(platform, wallet_ref, charge["amount"], now)
        if benefits is None:
            raise PaymentRefused("insufficient_funds", "the wallet balance is too low")
        receipt = build_receipt(
            PaymentReceipt(
                ISSUER,
                charge_id,
                charge["amount"],
                now // 1000,
                os.urandom(8),
                sale_digest(payload),
            ),
            platform.keys.current.kid,
            platform.keys.current.sign,
        )
        platform.db.execute(
            "UPDATE charges SET status = 'paid', paid_ms = ?, receipt = ?, wallet_ref = ?,"
            " benefits = ? WHERE charge_id = ? AND device_id = ?",
            (now, receipt, wallet_ref, json.dumps(_benefits(benefits)), charge_id, terminal_id),
        )
    platform.charge_changed(charge_id)
    return receipt


def _register_from_qr(platform: Platform, charge_id: str, payload: str) -> None:
    """A charge the terminal could not register (it is offline), from its signed QR: accepted
    only when the QR names this charge and a known terminal whose key signed it."""
    try:
        sale = read_sale_qr(payload)[0]
    except SaleQrError as error:
        raise PaymentRefused("unknown_charge", f"no charge {charge_id} ({error})") from None
    merchant = platform.device_merchant(sale.terminal_id)
    if sale.charge_id != charge_id or merchant is None:
        raise PaymentRefused("unknown_charge", f"no charge {charge_id}")
    body = {
        "charge_id": charge_id,
        "amount": sale.amount_won,
        "expires_at_ms": sale.expires_at * 1000,
        "payload": payload,
    }
    try:
        _check_payload(platform, sale.terminal_id, merchant, body)
    except Problem as problem:
        raise PaymentRefused("sale_qr_mismatch", str(problem)) from None
    platform.db.execute(
        "INSERT INTO charges (charge_id, device_id, amount, expires_ms, payload, status,"
        " created_ms) VALUES (?, ?, ?, ?, ?, 'pending', ?)",
        (
            charge_id,
            sale.terminal_id,
            sale.amount_won,
            body["expires_at_ms"],
            payload,
            platform.clock.now_ms(),
        ),
    )


def _benefits(benefits: Benefits) -> dict:
    return benefits.as_dict()


@routes.post("/v1/charges")
async def post_charge(request: web.Request) -> web.Response:
    status, view = register(request.app[PLATFORM], device(request), request[BODY])
    return web.json_response(view, status=status)


@routes.get("/v1/charges/{charge_id}")
async def get_charge(request: web.Request) -> web.Response:
    wait = min(int(request.query.get("wait", "0")), MAX_WAIT_SECONDS)
    view = await wait_for_change(
        request.app[PLATFORM], device(request), request.match_info["charge_id"], wait
    )
    return web.json_response(view)


@routes.post("/v1/charges/{charge_id}/cancel")
async def post_cancel(request: web.Request) -> web.Response:
    view = cancel(request.app[PLATFORM], device(request), request.match_info["charge_id"])
    return web.json_response(view)
