"""Base64url without padding (RFC 7515 §2): JWS parts and the sale QR's signature text.

Decoding is canonical: one byte string has exactly one accepted text. The stdlib decoder
skips characters outside the alphabet and ignores the unused low bits of the last character,
so four texts decode to the same signature; we refuse all but the one `b64url` writes.
"""

from __future__ import annotations

import base64
import re

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of a canonical unpadded base64url text; ValueError for any other text."""
    if not _ALPHABET.fullmatch(text):
        raise ValueError("not base64url: a character outside A-Z a-z 0-9 - _")
    if len(text) % 4 == 1:
        raise ValueError("not base64url: a length of 4k+1 characters cannot occur")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:
        raise ValueError("not canonical base64url: the unused bits of the last character are set")
    return data
