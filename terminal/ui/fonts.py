"""Finds a font with Hangul glyphs: the configured file, else Nanum or Noto CJK from apt."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import ImageFont

# fonts-nanum and fonts-noto-cjk install here on Debian and Raspberry Pi OS.
CANDIDATES = (
    "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


class FontError(RuntimeError):
    """No font with Hangul: the screens would show boxes. Install fonts-nanum."""


@cache
def hangul_font_path(configured: str = "") -> Path:
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise FontError(f"display.font = {configured!r}: no such font file")
        return path
    for candidate in CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontError("no Hangul font found; install one: sudo apt-get install fonts-nanum")


@cache
def font(size: int, configured: str = "") -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(hangul_font_path(configured)), size)
