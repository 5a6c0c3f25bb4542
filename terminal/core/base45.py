"""Base45 (RFC 9285): bytes as QR alphanumeric characters, so tokens stay at low QR versions."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {char: index for index, char in enumerate(ALPHABET)}


class Base45Error(ValueError):
    """Text that is not valid Base45."""


def b45encode(data: bytes) -> str:
    out = []
    for start in range(0, len(data) - 1, 2):
        value = data[start] * 256 + data[start + 1]
        value, c = divmod(value, 45)
        e, d = divmod(value, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    if len(text) % 3 == 1:
        raise Base45Error(f"Base45 length {len(text)} leaves a single character over")
    try:
        values = [_VALUE[char] for char in text]
    except KeyError as error:
        raise Base45Error(f"{error.args[0]!r} is not a Base45 character") from None
    out = bytearray()
    for start in range(0, len(values), 3):
        chunk = values[start : start + 3]
        if len(chunk) == 3:
            number = chunk[0] + chunk[1] * 45 + chunk[2] * 45 * 45
            if number > 0xFFFF:
                raise Base45Error(f"Base45 group at {start} encodes {number} > 65535")
            out += number.to_bytes(2, "big")
        else:
            number = chunk[0] + chunk[1] * 45
            if number > 0xFF:
                raise Base45Error(f"Base45 tail at {start} encodes {number} > 255")
            out.append(number)
    return bytes(out)
