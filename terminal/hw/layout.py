"""Display geometry: the panel's pixels, how the picture is turned onto it, and where the
on-screen keys sit. Screens draw on the canvas (portrait or landscape); backends turn it."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from terminal.core.keys import Key

# Panels the screens are laid out for, by their own (landscape) pixel size.
PRESETS = {
    (320, 240): "2.8-3.2 inch SPI panel (ILI9341)",
    (480, 320): "3.5 inch SPI/HDMI panel (ILI9486, MPI3501)",
    (800, 480): "5-7 inch DSI/HDMI panel (Raspberry Pi Touch Display)",
}

# Turning the canvas clockwise by `rotation` degrees gives the panel's picture.
_TO_PANEL = {
    0: None,
    90: Image.Transpose.ROTATE_270,  # PIL's ROTATE_n turns counter-clockwise
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_90,
}

# The on-screen keypad, row by row, for touch screens and the window's mouse.
KEYPAD_ROWS = (
    (Key.D1, Key.D2, Key.D3, Key.CANCEL),
    (Key.D4, Key.D5, Key.D6, Key.CLEAR),
    (Key.D7, Key.D8, Key.D9, Key.BACKSPACE),
    (Key.DOUBLE_ZERO, Key.D0, Key.MENU, Key.ENTER),
)


class LayoutError(ValueError):
    """A display geometry the configuration cannot mean (names the keys to fix)."""


@dataclass(frozen=True)
class TouchTarget:
    """An on-screen key: a box on the canvas (left, top, right, bottom; right/bottom excluded)."""

    box: tuple[int, int, int, int]
    key: Key

    def contains(self, x: int, y: int) -> bool:
        left, top, right, bottom = self.box
        return left <= x < right and top <= y < bottom


@dataclass(frozen=True)
class Layout:
    panel: tuple[int, int]  # the panel's own width × height in pixels
    rotation: int = 0  # degrees clockwise from canvas to panel

    def __post_init__(self):
        if self.rotation not in _TO_PANEL:
            raise LayoutError(f"display.rotation = {self.rotation}: use 0, 90, 180 or 270")
        if min(self.panel) < 96:
            raise LayoutError(f"display.width × height = {self.panel}: at least 96 × 96 pixels")

    @property
    def canvas(self) -> tuple[int, int]:
        """The size screens are drawn at."""
        width, height = self.panel
        return (height, width) if self.rotation in (90, 270) else (width, height)

    @property
    def orientation(self) -> str:
        width, height = self.canvas
        return "portrait" if height > width else "landscape"

    @property
    def preset(self) -> str | None:
        return PRESETS.get((max(self.panel), min(self.panel)))

    def to_panel(self, image: Image.Image) -> Image.Image:
        """The canvas image turned as the panel shows it."""
        if image.size != self.canvas:
            raise LayoutError(f"frame is {image.size}, the display's canvas is {self.canvas}")
        transpose = _TO_PANEL[self.rotation]
        return image if transpose is None else image.transpose(transpose)

    def panel_to_canvas(self, x: int, y: int) -> tuple[int, int]:
        """A panel pixel (a touch) as the canvas pixel shown there."""
        width, height = self.canvas
        if self.rotation == 90:
            return y, height - 1 - x
        if self.rotation == 180:
            return width - 1 - x, height - 1 - y
        if self.rotation == 270:
            return width - 1 - y, x
        return x, y

    def keypad_targets(self, top: int = 0) -> tuple[TouchTarget, ...]:
        """A 4×4 on-screen keypad filling the canvas below `top` (the screen's header)."""
        width, height = self.canvas
        rows, cols = len(KEYPAD_ROWS), len(KEYPAD_ROWS[0])
        cell_h = (height - top) // rows
        cell_w = width // cols
        return tuple(
            TouchTarget(
                (c * cell_w, top + r * cell_h, (c + 1) * cell_w, top + (r + 1) * cell_h), key
            )
            for r, row in enumerate(KEYPAD_ROWS)
            for c, key in enumerate(row)
        )


def hit(targets: tuple[TouchTarget, ...], x: int, y: int) -> Key | None:
    """The key under a canvas point, or None where no key is drawn."""
    for target in targets:
        if target.contains(x, y):
            return target.key
    return None
