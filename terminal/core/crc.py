"""CRC-16/CCITT-FALSE, the checksum of EMV QR payloads (poly 0x1021, init 0xFFFF, no reflection)."""

from __future__ import annotations


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_TABLE = _table()


def crc16_ccitt_false(data: bytes) -> int:
    """The CRC of `data`; crc16_ccitt_false(b"123456789") == 0x29B1 (the catalogue check value)."""
    crc = 0xFFFF
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[(crc >> 8) ^ byte]
    return crc
