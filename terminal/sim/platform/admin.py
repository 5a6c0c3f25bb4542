"""The loopback admin endpoint (plain HTTP on 127.0.0.1, its own port, not in the device API):
enrollment codes, faults, key rotation, revocation, config pushes, wallets, paying charges and
printed stands, and looking at what the platform holds. Scripts and the simulated wallet use it
across processes; tests in the same process may use `PlatformServer.call` instead.

Only loopback JSON requests are served: no cross-site form posts, no DNS-rebound names."""

from __future__ import annotations

import functools
import json
from dataclasses import asdict

from aiohttp import web

from terminal.signing import jwks_document, key_id
from terminal.sim.platform import charges, enrollment, stands, transactions, wallets
from terminal.sim.platform.faults import FaultSpecError
from terminal.sim.platform.settlement import flagged
from terminal.sim.platform.state import PLATFORM, Platform

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _refusal(request: web.Request) -> web.Response | None:
    """Why a request must not reach the admin handlers, if it must not. A web page in the
    developer's browser can send a cross-site "simple" POST (text/plain, no preflight) to
    127.0.0.1, or reach it under its own name through DNS rebinding: only a JSON body (which a
    browser sends cross-site only after a CORS preflight we never answer) and a loopback Host
    header get through."""
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    port = sockname[1] if sockname else None
    if request.host not in {f"127.0.0.1:{port}", f"localhost:{port}"}:
        return web.json_response(
            {"error": f"Host {request.host!r} is not this loopback admin port"}, status=403
        )
    if request.method in WRITES and request.content_type != "application/json":
        return web.json_response(
            {"error": "send Content-Type: application/json (even with no body)"}, status=415
        )
    return None


def _guarded(handler):
    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        return _refusal(request) or await handler(request)

    return guarded


class _LoopbackRoutes(web.RouteTableDef):
    """A route table whose every handler is guarded by `_refusal`, however it is declared."""

    def route(self, method: str, path: str, **kwargs):
        register = super().route(method, path, **kwargs)

        def inner(handler):
            register(_guarded(handler))
            return handler

        return inner


routes = _LoopbackRoutes()


def _bad(detail: str) -> web.Response:
    return web.json_response({"error": detail}, status=400)


async def _json(request: web.Request) -> dict:
    if not request.can_read_body:
        return {}
    try:
        document = await request.json()
    except ValueError as error:
        raise web.HTTPBadRequest(text=f"body is not JSON: {error}") from None
    if not isinstance(document, dict | list):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return document


def device_summary(platform: Platform, device_id: str) -> dict | None:
    merchant = platform.device_merchant(device_id)
    if merchant is None:
        return None
    rows = platform.db.execute(
        "SELECT txn_id, seq FROM records WHERE device_id = ? ORDER BY seq", (device_id,)
    ).fetchall()
    certificates = platform.db.execute(
        "SELECT serial, not_after_ms, revoked_ms FROM certificates WHERE device_id = ?",
        (device_id,),
    ).fetchall()
    keys = platform.device_keys(device_id)
    return {
        "device_id": device_id,
        "merchant_id": merchant,
        "records": [{"txn_id": t, "seq": s} for t, s in rows],
        "held_seqs": transactions.held_seqs(platform, device_id),
        "flagged": flagged(platform, device_id),
        "certificates": [
            {"serial": s, "not_after_ms": n, "revoked": r is not None} for s, n, r in certificates
        ],
        "jwks": jwks_document({key_id(k): k for k in keys}) if keys else {"keys": []},
    }


@routes.post("/admin/codes")
async def post_code(request: web.Request) -> web.Response:
    code, expires = enrollment.new_code(request.app[PLATFORM])
    return web.json_response({"code": code, "expires_at_ms": expires}, status=201)


@routes.get("/admin/faults")
async def get_faults(request: web.Request) -> web.Response:
    return web.json_response(request.app[PLATFORM].faults.snapshot())


@routes.put("/admin/faults")
async def put_faults(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM]
    try:
        platform.faults.load(await _json(request))
    except FaultSpecError as error:
        return _bad(str(error))
    return web.json_response(platform.faults.snapshot())


@routes.post("/admin/keys/rotate")
async def post_rotate(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM]
    kid = platform.keys.rotate(platform.clock.now_ms())
    return web.json_response({"kid": kid, "jwks": platform.keys.jwks()})


@routes.post("/admin/certificates/{serial}/revoke")
async def post_revoke(request: web.Request) -> web.Response:
    if not request.app[PLATFORM].revoke(request.match_info["serial"]):
        return web.json_response({"error": "no such unrevoked certificate"}, status=404)
    return web.json_response({"revoked": request.match_info["serial"]})


@routes.post("/admin/devices/{device_id}/revoke")
async def post_revoke_device(request: web.Request) -> web.Response:
    platform, device_id = request.app[PLATFORM], request.match_info["device_id"]
    if platform.device_merchant(device_id) is None:
        return web.json_response({"error": "no such device"}, status=404)
    return web.json_response({"revoked": platform.revoke_device(device_id)})


@routes.post("/admin/config")
async def post_config(request: web.Request) -> web.Response:
    changes = await _json(request)
    if not isinstance(changes, dict) or "version" in changes:
        return _bad("send {section: {key: value}}; the version is the platform's to set")
    return web.json_response(request.app[PLATFORM].push_config(changes))


@routes.post("/admin/wallets")
async def post_wallet(request: web.Request) -> web.Response:
    balance = (await _json(request)).get("balance", 1_000_000)
    if isinstance(balance, bool) or not isinstance(balance, int) or balance < 0:
        return _bad("balance must be whole won ≥ 0")
    return web.json_response(
        {"wallet_ref": wallets.open_wallet(request.app[PLATFORM], balance)}, status=201
    )


@routes.post("/admin/wallets/{wallet_ref}/tokens")
async def post_token(request: web.Request) -> web.Response:
    try:
        token = wallets.issue_token(request.app[PLATFORM], request.match_info["wallet_ref"])
    except LookupError as error:
        return web.json_response({"error": str(error)}, status=404)
    return web.json_response(asdict(token), status=201)


@routes.get("/admin/flagged")
async def get_flagged(request: web.Request) -> web.Response:
    """Offline sales stored but not settled (a reused token, …): counts per flag, then each."""
    return web.json_response(flagged(request.app[PLATFORM]))


@routes.post("/admin/charges/{charge_id}/pay")
async def post_pay(request: web.Request) -> web.Response:
    body = await _json(request)
    if not isinstance(body.get("payload"), str) or not isinstance(body.get("wallet_ref"), str):
        return _bad("send {payload, wallet_ref}")
    try:
        receipt = charges.pay(
            request.app[PLATFORM],
            request.match_info["charge_id"],
            body["payload"],
            body["wallet_ref"],
        )
    except charges.PaymentRefused as refused:
        return web.json_response({"refused": refused.reason, "detail": str(refused)}, status=409)
    return web.json_response({"receipt": receipt})


@routes.post("/admin/stands/pay")
async def post_pay_stand(request: web.Request) -> web.Response:
    body = await _json(request)
    if not isinstance(body.get("payload"), str) or not isinstance(body.get("wallet_ref"), str):
        return _bad("send {payload, amount, wallet_ref}")
    try:
        payment = stands.pay_stand(
            request.app[PLATFORM], body["payload"], body.get("amount"), body["wallet_ref"]
        )
    except charges.PaymentRefused as refused:
        return web.json_response({"refused": refused.reason, "detail": str(refused)}, status=409)
    return web.json_response(payment, status=201)


@routes.get("/admin/devices/{device_id}")
async def get_device(request: web.Request) -> web.Response:
    summary = device_summary(request.app[PLATFORM], request.match_info["device_id"])
    if summary is None:
        return web.json_response({"error": "no such device"}, status=404)
    return web.Response(text=json.dumps(summary), content_type="application/json")
