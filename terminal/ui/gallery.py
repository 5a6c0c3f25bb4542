"""Writes a picture of every screen at every panel size: `scripts/screens [DIR]`."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from PIL import Image

from terminal.ui.paint import Theme
from terminal.ui.samples import SIZES, sample_states
from terminal.ui.screens import render

# 인천e음's colours (firmware_config/issuers/incheon.toml): the samples name that brand.
TOUCH_SAMPLES = ("home", "amount-lines", "items", "pin", "refund-amount")
SAMPLE_THEME = Theme(primary="#00A0E9", accent="#F08300")


def write_gallery(folder: Path, theme: Theme = SAMPLE_THEME) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, state in sample_states().items():
        for width, height in SIZES:
            path = folder / f"{name}-{width}x{height}.png"
            image = render(state, (width, height), theme).image
            # A palette keeps the pictures small in git; the screens use few colours.
            image.quantize(64, dither=Image.Dither.NONE).save(path, optimize=True)
            written.append(path)
    # Touch panels: the same screens with the on-screen keypad where digits are typed.
    touch = replace(theme, keypad=True)
    states = sample_states()
    for name in TOUCH_SAMPLES:
        for width, height in SIZES:
            path = folder / f"{name}-touch-{width}x{height}.png"
            image = render(states[name], (width, height), touch).image
            image.quantize(64, dither=Image.Dither.NONE).save(path, optimize=True)
            written.append(path)
    return written


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path("docs/screens")
    if folder.exists() and not folder.is_dir():
        print(
            f"error: {folder} is not a directory; give a folder for the pictures", file=sys.stderr
        )
        return 2
    written = write_gallery(folder)
    print(f"{len(written)} screens written to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
