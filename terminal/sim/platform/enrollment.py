"""Enrollment codes and device certificates: POST /v1/enrollments and POST /v1/certificates.

A code is PPPP-SSSS-SSSS: the prefix names it, the 8 secret characters (40 bits) are stored
hashed. Single use, 10 minutes, locked after 5 wrong secrets; an address that keeps sending
unknown codes is slowed down with 429. A device that lost the answer may send the same code
and the same key again and gets its enrollment back (the reply after commit can be lost).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from terminal.core.ids import CROCKFORD
from terminal.sim.platform.auth import device
from terminal.sim.platform.db import next_number, transaction
from terminal.sim.platform.problems import Problem
from terminal.sim.platform.state import PLATFORM, Platform
from terminal.sim.platform.validation import BODY

CODE_LIFETIME_MS = 10 * 60 * 1000
MAX_WRONG_TRIES = 5  # per code
ADDRESS_LIMIT = 10  # unknown codes per address per window
ADDRESS_WINDOW_MS = 10 * 60 * 1000

routes = web.RouteTableDef()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_code(platform: Platform, merchant_id: str | None = None) -> tuple[str, int]:
    """A fresh one-time code and when it expires (Unix ms)."""
    merchant_id = merchant_id or platform.config()["merchant"]["id"]
    now = platform.clock.now_ms()
    while True:
        prefix = "".join(secrets.choice(CROCKFORD) for _ in range(4))
        secret = "".join(secrets.choice(CROCKFORD) for _ in range(8))
        cursor = platform.db.execute(
            "INSERT OR IGNORE INTO codes (prefix, secret_hash, merchant_id, created_ms, expires_ms)"
            " VALUES (?, ?, ?, ?, ?)",
            (prefix, _hash(secret), merchant_id, now, now + CODE_LIFETIME_MS),
        )
        if cursor.rowcount == 1:
            return f"{prefix}-{secret[:4]}-{secret[4:]}", now + CODE_LIFETIME_MS


def _refuse(status: int, name: str, detail: str) -> Problem:
    return Problem(status, "show", name, detail)


def _check_address(platform: Platform, address: str, now: int) -> None:
    # Failures older than the window no longer count: forget them, so the table stays small.
    platform.db.execute("DELETE FROM address_failures WHERE at_ms <= ?", (now - ADDRESS_WINDOW_MS,))
    rows = platform.db.execute(
        "SELECT at_ms FROM address_failures WHERE address = ? AND at_ms > ? ORDER BY at_ms",
        (address, now - ADDRESS_WINDOW_MS),
    ).fetchall()
    if len(rows) >= ADDRESS_LIMIT:
        wait_ms = rows[-ADDRESS_LIMIT][0] + ADDRESS_WINDOW_MS - now
        raise Problem(
            429,
            "retry",
            "too_many_attempts",
            "too many wrong enrollment codes from this address",
            retry_after=max(1, -(-wait_ms // 1000)),
        )


def _parse_csr(csr_pem: str) -> x509.CertificateSigningRequest:
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        valid = csr.is_signature_valid
        key = csr.public_key()
    except (ValueError, TypeError, UnicodeEncodeError) as error:
        raise Problem(422, "park", "bad_csr", f"not a PEM certificate request: {error}") from None
    if not valid:
        raise Problem(422, "park", "bad_csr", "the CSR's signature does not verify")
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise Problem(422, "park", "bad_csr", "the device key must be EC P-256")
    return csr


def _public_bytes(key) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _certify(platform: Platform, csr_pem: str, device_id: str) -> dict:
    """Issues and records a certificate; returns the fields every answer carries."""
    certificate = platform.pki.issue_device(
        csr_pem.encode(), device_id, platform.clock.now_datetime()
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    not_after_ms = int(certificate.not_valid_after_utc.timestamp() * 1000)
    platform.db.execute(
        "INSERT INTO certificates (serial, device_id, pem, not_after_ms) VALUES (?, ?, ?, ?)",
        (format(certificate.serial_number, "x"), device_id, pem, not_after_ms),
    )
    return {
        "device_id": device_id,
        "certificate": pem,
        "ca_chain": [platform.pki.ca_pem.decode()],
        "not_after_ms": not_after_ms,
    }


def _answer(platform: Platform, issued: dict) -> dict:
    config = platform.config()
    return {
        **issued,
        "merchant": config["merchant"],
        "jwks": platform.keys.jwks(),
        "config": config,
    }


def _replay(platform: Platform, device_id: str, csr: x509.CertificateSigningRequest) -> dict | None:
    """The enrollment again, if this used code's device holds the CSR's key (lost reply)."""
    row = platform.db.execute(
        "SELECT serial, pem, not_after_ms FROM certificates WHERE device_id = ? "
        "AND revoked_ms IS NULL ORDER BY rowid LIMIT 1",
        (device_id,),
    ).fetchone()
    if row is None:
        return None
    certificate = x509.load_pem_x509_certificate(row[1].encode())
    if _public_bytes(certificate.public_key()) != _public_bytes(csr.public_key()):
        return None
    issued = {
        "device_id": device_id,
        "certificate": row[1],
        "ca_chain": [platform.pki.ca_pem.decode()],
        "not_after_ms": row[2],
    }
    return _answer(platform, issued)


def enroll(platform: Platform, code: str, csr_pem: str, address: str) -> dict:
    db, now = platform.db, platform.clock.now_ms()
    _check_address(platform, address, now)
    prefix, secret = code[:4], code[5:9] + code[10:14]
    row = db.execute(
        "SELECT secret_hash, merchant_id, expires_ms, used_ms, failures, device_id FROM codes "
        "WHERE prefix = ?",
        (prefix,),
    ).fetchone()
    if row is None:
        db.execute("INSERT INTO address_failures VALUES (?, ?)", (address, now))
        raise _refuse(403, "code_invalid", "no such enrollment code; check it or ask for a new one")
    secret_hash, merchant_id, expires_ms, used_ms, failures, used_by = row
    if failures >= MAX_WRONG_TRIES:
        raise _refuse(
            403, "code_locked", "this code is locked after wrong tries; ask for a new one"
        )
    if not hmac.compare_digest(secret_hash, _hash(secret)):
        db.execute("UPDATE codes SET failures = failures + 1 WHERE prefix = ?", (prefix,))
        db.execute("INSERT INTO address_failures VALUES (?, ?)", (address, now))
        left = MAX_WRONG_TRIES - failures - 1
        raise _refuse(403, "code_invalid", f"wrong enrollment code ({left} tries left)")
    csr = _parse_csr(csr_pem)
    if used_ms is not None:
        again = _replay(platform, used_by, csr)
        if again is None:
            raise _refuse(403, "code_used", "this code was used already; ask for a new one")
        return again
    if now >= expires_ms:
        raise _refuse(403, "code_expired", "this code has expired; ask for a new one")
    serials = csr.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    serial = str(serials[0].value) if serials else "unknown"
    with transaction(db):
        device_id = f"SIM-{next_number(db, 'device'):07d}"
        db.execute(
            "INSERT INTO devices (device_id, serial, merchant_id, enrolled_ms) VALUES (?, ?, ?, ?)",
            (device_id, serial, merchant_id, now),
        )
        issued = _certify(platform, csr_pem, device_id)
        db.execute(
            "UPDATE codes SET used_ms = ?, device_id = ? WHERE prefix = ?", (now, device_id, prefix)
        )
    return _answer(platform, issued)


def renew(platform: Platform, device_id: str, csr_pem: str) -> dict:
    csr = _parse_csr(csr_pem)
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names and names[0].value != device_id:
        raise Problem(422, "park", "bad_csr", f"the CSR names {names[0].value!r}, not {device_id}")
    with transaction(platform.db):
        return _certify(platform, csr_pem, device_id)


@routes.post("/v1/enrollments")
async def post_enrollment(request: web.Request) -> web.Response:
    body = request[BODY]
    answer = enroll(request.app[PLATFORM], body["code"], body["csr"], request.remote or "?")
    return web.json_response(answer, status=201)


@routes.post("/v1/certificates")
async def post_certificate(request: web.Request) -> web.Response:
    answer = renew(request.app[PLATFORM], device(request).device_id, request[BODY]["csr"])
    return web.json_response(answer, status=201)
