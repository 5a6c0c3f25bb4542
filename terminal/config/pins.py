"""Making a stored PIN hash: the one place that draws a PIN hash's random salt (the core only
derives and checks, terminal/core/pin.py)."""

from __future__ import annotations

import secrets

from terminal.core.pin import SALT_MIN_BYTES, hash_pin


def make_pin_hash(pin: str) -> str:
    """The `scrypt$…` text for `pin` with a fresh 16-byte salt and the default cost; BadPin when
    `pin` is not 4-8 digits. Two calls with one PIN give two different texts."""
    return hash_pin(pin, secrets.token_bytes(SALT_MIN_BYTES)).text()
