"""POST /v1/authorizations: online CPM authorization, idempotent by the device's transaction id (a
retry gets the first answer and is never charged twice); each token pays for one transaction."""

from __future__ import annotations

import json

from aiohttp import web

from terminal.core.tokens import TokenError, parse_customer_barcode, verify_customer_token
from terminal.sim.platform.auth import device
from terminal.sim.platform.db import next_number, transaction
from terminal.sim.platform.problems import idempotency_conflict
from terminal.sim.platform.state import ISSUER, PLATFORM, Device, Platform
from terminal.sim.platform.validation import BODY
from terminal.sim.platform.wallets import debit

routes = web.RouteTableDef()


class _Declined(Exception):
    def __init__(self, reason: str, token_id: int | None = None):
        super().__init__(reason)
        self.reason, self.token_id = reason, token_id


def _token_id(platform: Platform, token: str, form: str) -> int:
    now = platform.clock.now_s()
    try:
        if form == "qr":
            verifier = platform.keys.verifier()
            return verify_customer_token(token, verifier.check_tagged, now, ISSUER).token_id
        return parse_customer_barcode(token)
    except TokenError as error:
        raise _Declined(error.reason) from None


def _decide(platform: Platform, caller: Device, body: dict) -> tuple[dict, str | None]:
    """The answer for a new transaction, and its benefits JSON when approved. In a transaction."""
    token_id = _token_id(platform, body["token"], body["format"])
    row = platform.db.execute(
        "SELECT wallet_ref, expires_s, used_by FROM tokens WHERE token_id = ?", (token_id,)
    ).fetchone()
    if row is None:
        raise _Declined("unknown_token", token_id)
    wallet_ref, expires_s, used_by = row
    if used_by is not None:
        raise _Declined("token_used", token_id)
    now = platform.clock.now_ms()
    if now // 1000 >= expires_s:
        raise _Declined("expired", token_id)
    benefits = debit(platform, wallet_ref, body["amount"], now)
    if benefits is None:
        raise _Declined("insufficient_funds", token_id)
    platform.db.execute(
        "UPDATE tokens SET used_by = ? WHERE token_id = ?", (body["transaction_id"], token_id)
    )
    answer = {
        "transaction_id": body["transaction_id"],
        "status": "approved",
        "amount": body["amount"],
        "approval_number": f"{next_number(platform.db, 'approval') % 10**8:08d}",
        "token_id": str(token_id),
        "benefits": benefits.as_dict(),
    }
    return answer, json.dumps({"wallet_ref": wallet_ref, **benefits.as_dict()})


def authorize(platform: Platform, caller: Device, body: dict) -> dict:
    request = json.dumps([body["token"], body["format"], body["amount"]])
    # Transaction ids are the caller's own: another device's id is another transaction.
    row = platform.db.execute(
        "SELECT request, answer FROM authorizations WHERE device_id = ? AND transaction_id = ?",
        (caller.device_id, body["transaction_id"]),
    ).fetchone()
    if row is not None:
        if row[0] != request:
            raise idempotency_conflict(
                f"transaction {body['transaction_id']} was authorized with another request"
            )
        return json.loads(row[1])
    with transaction(platform.db):
        try:
            answer, benefits = _decide(platform, caller, body)
        except _Declined as declined:
            answer, benefits = (
                {
                    "transaction_id": body["transaction_id"],
                    "status": "declined",
                    "amount": body["amount"],
                    "reason": declined.reason,
                },
                None,
            )
            if declined.token_id is not None:
                answer["token_id"] = str(declined.token_id)
        platform.db.execute(
            "INSERT INTO authorizations (transaction_id, device_id, request, answer, amount,"
            " approved, benefits) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                body["transaction_id"],
                caller.device_id,
                request,
                json.dumps(answer),
                body["amount"],
                answer["status"] == "approved",
                benefits,
            ),
        )
    return answer


@routes.post("/v1/authorizations")
async def post_authorization(request: web.Request) -> web.Response:
    answer = authorize(request.app[PLATFORM], device(request), request[BODY])
    return web.json_response(answer)
