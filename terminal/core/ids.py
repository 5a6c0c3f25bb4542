"""Identifiers from explicit time and randomness: UUIDv7 transaction ids, short charge ids."""

from __future__ import annotations

import uuid

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHARGE_ID_CHARS = 20  # fits EMV reference label (62-05, at most 25 characters)


class IdError(ValueError):
    """A malformed identifier."""


def uuid7(unix_ms: int, random_bytes: bytes) -> uuid.UUID:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, version, variant, 74 random bits."""
    if not 0 <= unix_ms < 1 << 48:
        raise IdError(f"unix_ms out of range: {unix_ms}")
    if len(random_bytes) < 10:
        raise IdError("uuid7 needs 10 random bytes")
    rand = int.from_bytes(random_bytes[:10], "big")
    rand_a = (rand >> 68) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (unix_ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return uuid.UUID(int=value)


def new_charge_id(unix_ms: int, random_bytes: bytes) -> str:
    """20 Crockford base32 characters: 48 bits of milliseconds then 52 random bits (sortable)."""
    if not 0 <= unix_ms < 1 << 48:
        raise IdError(f"unix_ms out of range: {unix_ms}")
    if len(random_bytes) < 7:
        raise IdError("a charge id needs 7 random bytes")
    value = (unix_ms << 52) | (int.from_bytes(random_bytes[:7], "big") >> 4)
    chars = []
    for _ in range(CHARGE_ID_CHARS):
        value, digit = divmod(value, 32)
        chars.append(CROCKFORD[digit])
    return "".join(reversed(chars))


def check_charge_id(charge_id: str) -> str:
    """Returns the charge id if well formed, else raises IdError."""
    if len(charge_id) != CHARGE_ID_CHARS or any(c not in CROCKFORD for c in charge_id):
        raise IdError(
            f"charge id must be {CHARGE_ID_CHARS} Crockford base32 characters: {charge_id!r}"
        )
    return charge_id
