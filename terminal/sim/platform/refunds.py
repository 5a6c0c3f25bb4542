"""POST /v1/refunds: refunds of an earlier sale, never beyond what remains; idempotent by
refund id."""

from __future__ import annotations

import json

from aiohttp import web

from terminal.core.benefits import NO_BENEFITS, Benefits, refund_benefits
from terminal.sim.platform.auth import device
from terminal.sim.platform.db import next_number, transaction
from terminal.sim.platform.problems import idempotency_conflict, not_found
from terminal.sim.platform.stands import stand_payment
from terminal.sim.platform.state import PLATFORM, Device, Platform
from terminal.sim.platform.validation import BODY
from terminal.sim.platform.wallets import credit

routes = web.RouteTableDef()


def _original(platform: Platform, caller: Device, txn_id: str) -> tuple[int, Benefits, str | None]:
    """(amount, the sale's benefits, the wallet to credit) of a sale this device made."""
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
        # An uploaded sale (MPM or offline CPM): the platform has no wallet to credit here.
        return row[0], NO_BENEFITS, None
    raise not_found(f"no sale {txn_id} of this device: upload it before refunding it")


def refund(platform: Platform, caller: Device, body: dict) -> dict:
    request = json.dumps([body["original_transaction_id"], body["amount"]])
    row = platform.db.execute(
        "SELECT device_id, request, answer FROM refunds WHERE refund_id = ?", (body["refund_id"],)
    ).fetchone()
    if row is not None:
        if (row[0], row[1]) != (caller.device_id, request):
            raise idempotency_conflict(f"refund {body['refund_id']} was made with another request")
        return json.loads(row[2])
    original = body["original_transaction_id"]
    with transaction(platform.db):
        amount, sale_benefits, wallet_ref = _original(platform, caller, original)
        refunded = platform.db.execute(
            "SELECT coalesce(sum(amount), 0) FROM refunds WHERE original = ? AND approved",
            (original,),
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
                original,
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
