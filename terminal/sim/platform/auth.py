"""Who is calling: the device named by the verified client certificate of the TLS connection.

The TLS layer already refused certificates from another CA and expired ones (CERT_OPTIONAL
verifies a certificate when one is sent); here a missing, unknown or revoked one becomes a
401/403 problem before any handler runs.
"""

from __future__ import annotations

from aiohttp import web

from terminal.sim.platform.problems import Problem
from terminal.sim.platform.state import PLATFORM, Device

# The only operation served without a client certificate (the contract: mTLS for every call
# except enrollment).
PUBLIC = frozenset({("POST", "/v1/enrollments")})
DEVICE = web.RequestKey("device", Device)


def peer_certificate(request: web.Request) -> bytes | None:
    """DER of the client certificate the TLS handshake verified, if the client sent one."""
    transport = request.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is None:
        return None
    return ssl_object.getpeercert(binary_form=True)


def identify(request: web.Request) -> None:
    """Stores the calling device in request[DEVICE], or raises the 401/403 problem."""
    if (request.method, request.path) in PUBLIC:
        return
    der = peer_certificate(request)
    if not der:
        raise Problem(
            401,
            "show",
            "certificate_required",
            "this call needs the device certificate from enrollment (mutual TLS)",
        )
    request[DEVICE] = request.app[PLATFORM].device_for_certificate(der)


def device(request: web.Request) -> Device:
    return request[DEVICE]
