"""Stored PIN hashes: the `scrypt$ln=…,r=…,p=…$salt$hash` text, its strict parser, and the check
of a typed PIN against it. Pure: the random salt of a new hash is made outside the core and
passed in (terminal/config/pins.py).

Why scrypt: a 4-8 digit PIN has at most 10^8 values, so the hash must be slow and need memory
(a stolen configuration should not give the PIN back in microseconds as an unsalted SHA-256
did), yet a Raspberry Pi Zero 2 W must check a typed PIN well within a second. The defaults
(N = 2^14, r = 8, p = 1: 16 MiB) take about 35 ms on a laptop core and about ten times that
on a Zero 2 W core. The parser caps the memory at the default's and the work at twice the
default's (measured: no allowed hash takes over about twice the default's time), so no
configuration can make the counter hang on a PIN check; and it refuses what scrypt itself
refuses (N of 2^(16·r) or more), so no stored hash can make a PIN check raise.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from terminal.core.base64url import b64url, b64url_decode

PIN_MIN_DIGITS, PIN_MAX_DIGITS = 4, 8
SCHEME = "scrypt"
DEFAULT_LN, DEFAULT_R, DEFAULT_P = 14, 8, 1
SALT_MIN_BYTES, SALT_MAX_BYTES = 16, 64
HASH_BYTES = 32
# Work is N·r·p, memory 128·N·r bytes. A large N is slower than its work says (memory latency:
# ln=17,r=2 took 4x the default's time for 2x its work), so memory is capped at the default's
# 16 MiB as well as work at twice the default's: one check on a Zero 2 W stays under about
# 0.7 s. The floor (for hashes a configuration may hold) keeps at least 8 MiB per guess.
MAX_WORK = 2 * (1 << DEFAULT_LN) * DEFAULT_R * DEFAULT_P
MAX_MEMORY_WORK = (1 << DEFAULT_LN) * DEFAULT_R
MIN_MEMORY_WORK = MAX_MEMORY_WORK // 2
# Sanity bounds on each number, checked first; the caps above are what really limit a hash.
MAX_LN, MAX_R, MAX_P = MAX_MEMORY_WORK.bit_length() - 1, 32, 16
# OpenSSL's own memory limit for scrypt, given explicitly: the capped 16 MiB plus scrypt's
# small extra (128·r·p bytes) fits with room to spare.
_MAXMEM = 32 * 1024 * 1024

_FORMAT = re.compile(
    r"scrypt\$ln=([1-9][0-9]?),r=([1-9][0-9]?),p=([1-9][0-9]?)"
    r"\$([A-Za-z0-9_-]{1,100})\$([A-Za-z0-9_-]{1,100})"
)
# The grammar only; the numbers' limits are combined (work cap, memory floor) and each refusal
# names the one it breaks.
FORMAT_TEXT = "scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt, base64url>$<32-byte hash, base64url>"


class PinHashError(ValueError):
    """A stored PIN hash that is not one this terminal makes or accepts. The message says what
    is wrong; not retryable: make a new hash (`qr-terminal config pin-hash`)."""


class BadPin(ValueError):
    """A PIN that is not 4-8 digits (the message says so)."""


@dataclass(frozen=True)
class PinHash:
    """One parsed stored hash: scrypt's cost parameters, the salt and the derived key."""

    ln: int  # N = 2**ln
    r: int
    p: int
    salt: bytes
    digest: bytes

    @property
    def work(self) -> int:
        return (1 << self.ln) * self.r * self.p

    def text(self) -> str:
        """The stored form, which `parse_pin_hash` reads back to this very value."""
        params = f"ln={self.ln},r={self.r},p={self.p}"
        return f"{SCHEME}${params}${b64url(self.salt)}${b64url(self.digest)}"


def check_pin(pin: str) -> str:
    """`pin` if it is 4-8 ASCII digits; BadPin saying what a PIN must be otherwise."""
    if not (PIN_MIN_DIGITS <= len(pin) <= PIN_MAX_DIGITS and pin.isascii() and pin.isdigit()):
        raise BadPin(f"a PIN is {PIN_MIN_DIGITS} to {PIN_MAX_DIGITS} digits (0-9), nothing else")
    return pin


def derive(pin: str, salt: bytes, ln: int, r: int, p: int) -> bytes:
    """scrypt of the PIN's ASCII digits: deterministic for a given salt and parameters."""
    return hashlib.scrypt(
        pin.encode("ascii"), salt=salt, n=1 << ln, r=r, p=p, maxmem=_MAXMEM, dklen=HASH_BYTES
    )


def hash_pin(
    pin: str, salt: bytes, ln: int = DEFAULT_LN, r: int = DEFAULT_R, p: int = DEFAULT_P
) -> PinHash:
    """The stored hash of `pin` with the caller's random `salt` (BadPin, PinHashError)."""
    check_pin(pin)
    _check_params(ln, r, p, salt)
    return PinHash(ln, r, p, salt, derive(pin, salt, ln, r, p))


def parse_pin_hash(text: str) -> PinHash:
    """The hash `text` stores; PinHashError naming the first thing wrong with it. Only the
    exact text `PinHash.text` writes is accepted (no spaces, padding or leading zeros)."""
    if not isinstance(text, str):
        raise PinHashError(f"a PIN hash is text, not {type(text).__name__}")
    match = _FORMAT.fullmatch(text)
    if match is None:
        # The value is secret (it may even be a PIN typed in by mistake): never quote it.
        if "$" in text and text.split("$", 1)[0] != SCHEME:
            raise PinHashError(f"unknown hash scheme (not {SCHEME}); expected {FORMAT_TEXT}")
        raise PinHashError(f"not a PIN hash; expected {FORMAT_TEXT}")
    ln, r, p = (int(match.group(i)) for i in (1, 2, 3))
    try:
        salt, digest = b64url_decode(match.group(4)), b64url_decode(match.group(5))
    except ValueError as error:
        raise PinHashError(f"PIN hash salt or hash: {error}") from None
    _check_params(ln, r, p, salt)
    if len(digest) != HASH_BYTES:
        raise PinHashError(f"the hash part is {len(digest)} bytes; it must be {HASH_BYTES}")
    return PinHash(ln, r, p, salt, digest)


def strength_problem(stored: PinHash) -> str | None:
    """Why a configuration should not hold this hash (too little memory per guess), or None."""
    if (1 << stored.ln) * stored.r < MIN_MEMORY_WORK:
        return (
            f"ln={stored.ln},r={stored.r} uses under {MIN_MEMORY_WORK * 128 >> 20} MiB per "
            f"guess; make it with the defaults (ln={DEFAULT_LN},r={DEFAULT_R},p={DEFAULT_P})"
        )
    return None


def pin_matches(typed: str, stored: str) -> bool:
    """True when `typed` is the PIN `stored` was made from. An empty or unreadable `stored`
    matches nothing: the protected action stays locked."""
    if not stored:
        return False
    try:
        expected = parse_pin_hash(stored)
        check_pin(typed)
        # The parser refuses what scrypt refuses; should a library refuse more, fail closed
        # rather than take the counter down.
        actual = derive(typed, expected.salt, expected.ln, expected.r, expected.p)
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected.digest)


def _check_params(ln: int, r: int, p: int, salt: bytes) -> None:
    if not (1 <= ln <= MAX_LN and 1 <= r <= MAX_R and 1 <= p <= MAX_P):
        raise PinHashError(
            f"ln={ln},r={r},p={p} is outside ln 1-{MAX_LN}, r 1-{MAX_R}, p 1-{MAX_P}"
        )
    if ln >= 16 * r:  # RFC 7914: N < 2^(128·r/8); OpenSSL refuses the rest at check time
        raise PinHashError(f"ln={ln},r={r},p={p} is not valid scrypt (N must be below 2^(16·r))")
    if (1 << ln) * r > MAX_MEMORY_WORK:
        raise PinHashError(
            f"ln={ln},r={r},p={p} needs more memory than a PIN check may take (N·r at most "
            f"2^{MAX_MEMORY_WORK.bit_length() - 1}, {MAX_MEMORY_WORK * 128 >> 20} MiB)"
        )
    if (1 << ln) * r * p > MAX_WORK:
        raise PinHashError(
            f"ln={ln},r={r},p={p} is more work than a PIN check may take (N·r·p at most "
            f"2^{MAX_WORK.bit_length() - 1})"
        )
    if not SALT_MIN_BYTES <= len(salt) <= SALT_MAX_BYTES:
        raise PinHashError(
            f"the salt is {len(salt)} bytes; it must be {SALT_MIN_BYTES}-{SALT_MAX_BYTES}"
        )
