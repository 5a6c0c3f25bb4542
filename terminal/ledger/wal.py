"""Whether a -wal file is one SQLite will replay: its header, checked without SQLite.

SQLite silently ignores a -wal whose header is not valid, and a frame cut short; a read of a
stopped terminal's files would then miss the journal's newest records without a word (hostile
review 2, M1). The layout is SQLite's (sqlite.org/fileformat2.html, "WAL File Format"): a
32-byte header (magic, format version, page size, checkpoint sequence, two salts, and a checksum
of the first 24 bytes), then frames of a 24-byte frame header and one page each.
"""

from __future__ import annotations

import struct
from pathlib import Path

HEADER_BYTES = 32
FRAME_HEADER_BYTES = 24
# The magic's lowest bit says the byte order of the checksums: 0 little-endian, 1 big-endian.
MAGIC = {0x377F0682: "<", 0x377F0683: ">"}
FORMAT_VERSION = 3007000


def checksum(data: bytes, order: str, s0: int = 0, s1: int = 0) -> tuple[int, int]:
    """SQLite's WAL checksum over `data` (a multiple of 8 bytes), from (s0, s1)."""
    words = struct.unpack(f"{order}{len(data) // 4}I", data)
    for first, second in zip(words[::2], words[1::2], strict=True):
        s0 = (s0 + first + s1) & 0xFFFFFFFF
        s1 = (s1 + second + s0) & 0xFFFFFFFF
    return s0, s1


def wal_problem(wal: Path) -> str | None:
    """Why SQLite would not replay all of `wal` (a file with content), or None when its header
    is valid and it holds whole frames. Frames after the last commit, or left from before a
    checkpoint, are SQLite's normal business and not checked here."""
    size = wal.stat().st_size
    with wal.open("rb") as file:
        header = file.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES:
        return f"it is {size} bytes, shorter than a WAL header ({HEADER_BYTES})"
    magic, version, page_size = struct.unpack(">III", header[:12])
    if magic not in MAGIC or version != FORMAT_VERSION:
        return "it does not start with a WAL header (not a -wal file, or overwritten)"
    if checksum(header[:24], MAGIC[magic]) != struct.unpack(">II", header[24:32]):
        return "its header's checksum does not match (damaged)"
    page_size = 65536 if page_size == 1 else page_size
    frame = FRAME_HEADER_BYTES + page_size
    cut = (size - HEADER_BYTES) % frame
    if cut:
        return f"its last frame is cut short ({cut} of {frame} bytes: a copy that did not finish?)"
    return None
