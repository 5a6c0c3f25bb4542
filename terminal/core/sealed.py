"""Compact signed blobs for QR codes: PREFIX + Base45(body ‖ 64-byte ES256 signature).

body starts with a version byte and a 4-byte key tag (the first 4 bytes of SHA-256 of the
signing key's JWKS kid), so a verifier finds the key without a longer key id in the code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from terminal.core.base45 import Base45Error, b45decode, b45encode
from terminal.core.signature import is_canonical

SIGNATURE_BYTES = 64  # ES256 as raw r ‖ s (JWS form), not DER

Signer = Callable[[bytes], bytes]
# check(key_tag, message, signature) -> bool; raises LookupError for an unknown key tag.
SignatureCheck = Callable[[bytes, bytes, bytes], bool]


class SealedError(ValueError):
    """A signed code that cannot be accepted. `reason` says why; never retry the same code."""

    def __init__(self, reason: str, message: str):
        self.reason = reason
        super().__init__(f"{reason}: {message}")


def key_tag(kid: str) -> bytes:
    return hashlib.sha256(kid.encode("utf-8")).digest()[:4]


def seal(prefix: str, version: int, kid: str, fields: bytes, sign: Signer) -> str:
    body = bytes([version]) + key_tag(kid) + fields
    signature = sign(body)
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError(f"signer returned {len(signature)} bytes, expected {SIGNATURE_BYTES}")
    return prefix + b45encode(body + signature)


def unseal(
    prefix: str,
    version: int,
    text: str,
    fields_length: int,
    check: SignatureCheck,
    error: type[SealedError] = SealedError,
) -> bytes:
    """Checks shape, version and signature; returns the fields after version and key tag.

    Problems raise `error`, so each code format raises its own exception type.
    """
    if not text.startswith(prefix):
        raise error("malformed", f"does not start with {prefix!r}")
    try:
        raw = b45decode(text[len(prefix) :])
    except Base45Error as problem:
        raise error("malformed", str(problem)) from None
    expected = 1 + 4 + fields_length + SIGNATURE_BYTES
    if len(raw) != expected:
        raise error("malformed", f"{len(raw)} bytes, expected {expected}")
    if raw[0] != version:
        raise error("wrong_version", f"version {raw[0]}, this terminal reads {version}")
    body, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    if not is_canonical(signature):
        # The high-S twin of a valid signature verifies too; one code must have one text.
        raise error("bad_signature", "the signature is not in canonical (low-S) form")
    try:
        valid = check(body[1:5], body, signature)
    except LookupError:
        raise error("unknown_key", f"no platform key with tag {body[1:5].hex()}") from None
    if not valid:
        raise error("bad_signature", "the platform signature does not match")
    return body[5:]
