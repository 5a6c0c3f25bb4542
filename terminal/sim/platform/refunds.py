"""POST /v1/refunds: refunds of an earlier sale, never beyond what remains; idempotent by
refund id (per device). The wallet that paid gets the money back less the reversed cashback:
an online authorization's, a settled offline sale's, or the paid charge an MPM sale names."""

from __future__ import annotations

import json

from aiohttp import web

from terminal.core.base64url import b64url_decode
from terminal.core.benefits import NO_BENEFITS, Benefits, refund_benefits
from terminal.core.records import Record, record_from_json
from terminal.sim.platform.auth import device
from terminal.sim.platform.db import next_number, transaction
from terminal.sim.platform.problems import idempotency_conflict, not_found
from terminal.sim.platform.settlement import settled_sale
from terminal.sim.platform.stands import stand_payment
from terminal.sim.platform.state import PLATFORM, Device, Platform
from terminal.sim.platform.validation import BODY
from terminal.sim.platform.wallets import credit

routes = web.RouteTableDef()


def _sale_record(platform: Platform, device_id: str, txn_id: str) -> Record | None:
    row = platform.db.execute(
        "SELECT jws FROM records WHERE device_id = ? AND txn_id = ? AND kind = 'sale'",
        (device_id, txn_id),
    ).fetchone()
    return record_from_json(b64url_decode(row[0].split(".")[1])) if row else None


def _paid_charge(platform: Platform, device_id: str, txn_id: str) -> tuple | None:
    """(amount, benefits, wallet, charge id) of the paid charge an uploaded MPM sale names."""
    record = _sale_record(platform, device_id, txn_id)
    if record is None or record.method != "mpm" or "charge_id" not in record.refs:
        return None
    row = platform.db.execute(
        "SELECT amount, benefits, wallet_ref FROM charges WHERE charge_id = ? AND device_id = ?"
        " AND status = 'paid'",
        (record.refs["charge_id"], device_id),
    ).fetchone()
    if row is None:
        return None
    saved = json.loads(row[1])
    benefits = Benefits(saved["city_won"], saved["district_won"], saved["merchant_won"])
    return row[0], benefits, row[2], record.refs["charge_id"]


def _wallet_sale(platform: Platform, device_id: str, txn_id: str):
    """An uploaded sale whose paying wallet the platform knows: an offline CPM sale it settled,
    or an MPM sale whose charge a wallet paid (bounded by the charge, not the record)."""
    settled = settled_sale(platform, device_id, txn_id)
    if settled is not None:
        return settled
    charge = _paid_charge(platform, device_id, txn_id)
    return charge[:3] if charge is not None else None


def _budget(platform: Platform, device_id: str, txn_id: str) -> str:
    """What refunds of this original are counted against: the charge for an MPM sale, so two
    records naming one paid charge share one refund budget, else the original itself."""
    charge = _paid_charge(platform, device_id, txn_id)
    return f"charge:{charge[3]}" if charge is not None else txn_id


def _original(platform: Platform, caller: Device, txn_id: str) -> tuple[int, Benefits, str | None]:
    """(amount, the sale's benefits, the wallet to credit) of a sale this device made."""
    known = _wallet_sale(platform, caller.device_id, txn_id)
    if known is not None:
        return known
    row = platform.db.execute(
        "SELECT amount, benefits FROM authorizations WHERE transaction_id = ? AND device_id = ?"
        " AND approved",
        (txn_id, caller.device_id),
    ).fetchone()
    if row is not None:
        saved = json.loads(row[1])
        benefits = Benefits(saved["city_won"], saved["district_won"], saved["merchant_won"])
        return row[0], benefits, saved["wallet_ref"]
    paid = stand_payment(platform, caller.device_id, txn_id)
    if paid is not None:
        # A payment to the printed stand: its id is the sale's, and the wallet is known.
        saved = paid["benefits"]
        benefits = Benefits(saved["city_won"], saved["district_won"], saved["merchant_won"])
        return paid["amount"], benefits, paid["wallet_ref"]
    row = platform.db.execute(
        "SELECT amount FROM records WHERE txn_id = ? AND device_id = ? AND kind = 'sale'",
        (txn_id, caller.device_id),
    ).fetchone()
    if row is not None:
        # A sale no wallet is known to have paid (an offline sale flagged at upload, an MPM
        # record naming no paid charge of this device): bounded, but nothing is credited.
        return row[0], NO_BENEFITS, None
    raise not_found(f"no sale {txn_id} of this device: upload it before refunding it")


def refund(platform: Platform, caller: Device, body: dict) -> dict:
    request = json.dumps([body["original_transaction_id"], body["amount"]])
    row = platform.db.execute(
        "SELECT request, answer FROM refunds WHERE device_id = ? AND refund_id = ?",
        (caller.device_id, body["refund_id"]),
    ).fetchone()
    if row is not None:
        if row[0] != request:
            raise idempotency_conflict(f"refund {body['refund_id']} was made with another request")
        return json.loads(row[1])
    original = body["original_transaction_id"]
    with transaction(platform.db):
        amount, sale_benefits, wallet_ref = _original(platform, caller, original)
        budget = _budget(platform, caller.device_id, original)
        refunded = platform.db.execute(
            "SELECT coalesce(sum(amount), 0) FROM refunds WHERE device_id = ? AND original = ?"
            " AND approved",
            (caller.device_id, budget),
        ).fetchone()[0]
        answer = {
            "refund_id": body["refund_id"],
            "original_transaction_id": original,
            "amount": body["amount"],
        }
        if refunded + body["amount"] > amount:
            answer |= {
                "status": "declined",
                "reason": "exceeds_remaining",
                "remaining": amount - refunded,
            }
        else:
            reversed_benefits = refund_benefits(amount, sale_benefits, refunded, body["amount"])
            if wallet_ref is not None:
                credit(platform, wallet_ref, body["amount"], reversed_benefits)
            answer |= {
                "status": "approved",
                "approval_number": f"{next_number(platform.db, 'approval') % 10**8:08d}",
                "remaining": amount - refunded - body["amount"],
                "benefits": reversed_benefits.as_dict(),
            }
        platform.db.execute(
            "INSERT INTO refunds (refund_id, device_id, original, request, answer, amount,"
            " approved) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                body["refund_id"],
                caller.device_id,
                budget,
                request,
                json.dumps(answer),
                body["amount"],
                answer["status"] == "approved",
            ),
        )
    return answer


@routes.post("/v1/refunds")
async def post_refund(request: web.Request) -> web.Response:
    return web.json_response(refund(request.app[PLATFORM], device(request), request[BODY]))
