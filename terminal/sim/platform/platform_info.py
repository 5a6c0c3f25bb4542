"""GET /v1/keys (JWKS), /v1/config (ETag, 304), /v1/time (signed, with the caller's nonce) and
/v1/openapi.yaml (the spec, byte for byte)."""

from __future__ import annotations

from aiohttp import web

from terminal.core.records import canonical_json
from terminal.sim.platform.auth import device
from terminal.sim.platform.state import PLATFORM, Platform

routes = web.RouteTableDef()
SPEC_BYTES = web.AppKey("spec_bytes", bytes)


def etag(version: int) -> str:
    return f'"v{version}"'


def signed_time(platform: Platform, device_id: str, nonce: str) -> dict:
    time_ms = platform.clock.now_ms()
    claims = canonical_json({"device_id": device_id, "nonce": nonce, "time_ms": time_ms})
    return {"time_ms": time_ms, "jws": platform.keys.current.jws(claims)}


@routes.get("/v1/keys")
async def get_keys(request: web.Request) -> web.Response:
    return web.json_response(request.app[PLATFORM].keys.jwks())


@routes.get("/v1/config")
async def get_config(request: web.Request) -> web.Response:
    config = request.app[PLATFORM].config()
    tag = etag(config["version"])
    wanted = [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
    if tag in wanted or "*" in wanted:
        return web.Response(status=304, headers={"ETag": tag})
    return web.json_response(config, headers={"ETag": tag, "Cache-Control": "no-cache"})


@routes.get("/v1/time")
async def get_time(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM]
    return web.json_response(
        signed_time(platform, device(request).device_id, request.query["nonce"])
    )


@routes.get("/v1/openapi.yaml")
async def get_spec(request: web.Request) -> web.Response:
    return web.Response(body=request.app[SPEC_BYTES], content_type="application/yaml")
