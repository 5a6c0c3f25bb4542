"""Canonical ES256 signatures: raw r ‖ s with s in the lower half of the curve order.

ECDSA has two valid signatures for every one it makes, (r, s) and (r, n − s). Anything that
dedupes by text (a seen set, a journal, a platform's idempotency check) would count one sale
twice, so we make and accept only the low-S twin, as Bitcoin (BIP 62/146) does.
"""

from __future__ import annotations

# The order n of the P-256 group (SEC 2, FIPS 186-4 D.1.2.3).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
HALF_ORDER = P256_ORDER // 2
RAW_SIGNATURE_BYTES = 64


def split(signature: bytes) -> tuple[int, int]:
    """(r, s) of a raw signature; ValueError unless it is 64 bytes."""
    if len(signature) != RAW_SIGNATURE_BYTES:
        raise ValueError(f"a raw ES256 signature is 64 bytes, got {len(signature)}")
    return int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")


def is_canonical(signature: bytes) -> bool:
    """64 bytes, 1 ≤ r < n and 1 ≤ s ≤ n/2: the only form we sign and accept."""
    if len(signature) != RAW_SIGNATURE_BYTES:
        return False
    r, s = split(signature)
    return 1 <= r < P256_ORDER and 1 <= s <= HALF_ORDER


def low_s(r: int, s: int) -> bytes:
    """The raw low-S form of a signature (r, s)."""
    if s > HALF_ORDER:
        s = P256_ORDER - s
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def high_s_twin(signature: bytes) -> bytes:
    """The other valid encoding of the same signature (what an attacker would try)."""
    r, s = split(signature)
    return r.to_bytes(32, "big") + (P256_ORDER - s).to_bytes(32, "big")
