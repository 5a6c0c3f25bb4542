"""The device key: generate, store (0600), load, CSR, ES256 signing and JWS; platform JWKS keys.

Built on `cryptography` directly rather than a JOSE library: we need key files, CSRs and raw
ES256 for QR codes anyway, and compact JWS with one algorithm is a few lines on top of it.
P-256 so that a secure element (ATECC608, TPM) can hold the key later.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import NameOID

from terminal.core.base64url import b64url, b64url_decode

CURVE = ec.SECP256R1()
# Built once: constructing it costs about as much as hashing a record, on every signature.
ES256 = ec.ECDSA(hashes.SHA256())


class KeyFileError(Exception):
    """A key file is missing, unreadable, malformed or too open; a technician must fix it."""


class JwsError(ValueError):
    """A JWS that is malformed, uses another algorithm, names an unknown key or fails to verify."""


def raw_signature(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_raw(public_key: ec.EllipticCurvePublicKey, message: bytes, signature: bytes) -> bool:
    """Checks a raw r ‖ s ES256 signature."""
    if len(signature) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(signature[:32]), int.from_bytes(signature[32:]))
    try:
        public_key.verify(der, message, ES256)
    except InvalidSignature:
        return False
    return True


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """RFC 7638 JWK thumbprint cut to 12 base64url characters (72 bits): fits the sale QR."""
    jwk = public_jwk(public_key)
    canonical = json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()
    return b64url(hashlib.sha256(canonical).digest())[:12]


@dataclass(frozen=True)
class DeviceKey:
    """A P-256 private key held in memory; nothing else in the terminal reads key files."""

    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(ec.generate_private_key(CURVE))

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    @cached_property
    def kid(self) -> str:
        return key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """Raw ES256 signature (r ‖ s, 64 bytes) as JWS and our QR codes use it."""
        return raw_signature(self.private_key.sign(message, ES256))

    def verify(self, message: bytes, signature: bytes) -> bool:
        return verify_raw(self.public_key, message, signature)

    def save(self, path: Path) -> None:
        """Writes the key as PKCS#8 PEM with mode 0600, atomically: never a half-written key."""
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(descriptor, 0o600)
            os.write(descriptor, pem)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> DeviceKey:
        """Reads a key file, refusing one that group or others can read or write."""
        try:
            mode = path.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyFileError(
                    f"{path}: mode {stat.S_IMODE(mode):04o} lets others read the device key; "
                    f"run: chmod 600 {path}"
                )
            pem = path.read_bytes()
        except FileNotFoundError:
            raise KeyFileError(f"{path}: no device key; provision the device first") from None
        except PermissionError:
            raise KeyFileError(f"{path}: cannot read the device key (permission denied)") from None
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as error:
            raise KeyFileError(f"{path}: not an unencrypted PEM private key ({error})") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != CURVE.name:
            raise KeyFileError(f"{path}: the device key must be EC P-256")
        return cls(key)

    def csr(self, serial: str, device_id: str | None = None) -> bytes:
        """A PEM certificate signing request carrying the device serial (and id, once known)."""
        names = [x509.NameAttribute(NameOID.SERIAL_NUMBER, serial)]
        if device_id:
            names.append(x509.NameAttribute(NameOID.COMMON_NAME, device_id))
        request = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name(names))
            .sign(self.private_key, hashes.SHA256())
        )
        return request.public_bytes(serialization.Encoding.PEM)

    @cached_property
    def _jws_head(self) -> str:
        return self._head({})

    def _head(self, extra_headers: Mapping[str, str]) -> str:
        header = {"alg": "ES256", "kid": self.kid, **extra_headers}
        return b64url(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())

    def jws(self, payload: bytes, extra_headers: Mapping[str, str] | None = None) -> str:
        """Compact JWS (RFC 7515) with alg ES256 and this key's kid."""
        head = self._head(extra_headers) if extra_headers else self._jws_head
        signing_input = f"{head}.{b64url(payload)}".encode("ascii")
        return f"{signing_input.decode()}.{b64url(self.sign(signing_input))}"


def jws_verify(token: str, keys: Mapping[str, ec.EllipticCurvePublicKey]) -> tuple[dict, bytes]:
    """Verifies a compact ES256 JWS against keys by kid; returns (header, payload)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwsError("a compact JWS has three dot-separated parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = b64url_decode(parts[1])
        signature = b64url_decode(parts[2])
    except ValueError as error:
        raise JwsError(f"malformed JWS: {error}") from None
    if not isinstance(header, dict) or header.get("alg") != "ES256":
        raise JwsError(
            f"alg must be ES256, got {header.get('alg') if isinstance(header, dict) else header!r}"
        )
    key = keys.get(header.get("kid", ""))
    if key is None:
        raise JwsError(f"unknown key id {header.get('kid')!r}")
    if not verify_raw(key, f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
        raise JwsError("signature does not verify")
    return header, payload


def public_key_from_jwk(jwk: Mapping[str, str]) -> ec.EllipticCurvePublicKey:
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise JwsError(f"only EC P-256 keys are used, got {jwk.get('kty')}/{jwk.get('crv')}")
    try:
        x = int.from_bytes(b64url_decode(jwk["x"]), "big")
        y = int.from_bytes(b64url_decode(jwk["y"]), "big")
        return ec.EllipticCurvePublicNumbers(x, y, CURVE).public_key()
    except (KeyError, ValueError) as error:
        raise JwsError(f"malformed JWK: {error}") from None


def load_jwks(document: Mapping) -> dict[str, ec.EllipticCurvePublicKey]:
    """Platform keys by kid from a JWKS document ({"keys": [...]})."""
    keys = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(keys, list) or not keys:
        raise JwsError("a JWKS document needs a non-empty 'keys' list")
    result = {}
    for jwk in keys:
        if not isinstance(jwk, Mapping) or not isinstance(jwk.get("kid"), str):
            raise JwsError("every JWKS key needs a 'kid'")
        result[jwk["kid"]] = public_key_from_jwk(jwk)
    return result


def jwks_document(keys: Mapping[str, ec.EllipticCurvePublicKey]) -> dict:
    return {
        "keys": [
            {**public_jwk(key), "kid": kid, "alg": "ES256", "use": "sig"}
            for kid, key in keys.items()
        ]
    }


class PlatformKeys:
    """Verifies platform-signed codes (tokens, receipts) against keys from a JWKS document."""

    def __init__(self, keys: Mapping[str, ec.EllipticCurvePublicKey]):
        from terminal.core.sealed import key_tag

        self._by_kid = dict(keys)
        self._by_tag = {key_tag(kid): key for kid, key in keys.items()}

    def check_tagged(self, tag: bytes, message: bytes, signature: bytes) -> bool:
        """The SignatureCheck the core's sealed codes take; LookupError for an unknown tag."""
        return verify_raw(self._by_tag[tag], message, signature)

    def check_kid(self, kid: str, message: bytes, signature: bytes) -> bool:
        return verify_raw(self._by_kid[kid], message, signature)
