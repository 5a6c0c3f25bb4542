"""The display interface: a canvas image in, pixels on a panel out; a frame equal to the last is
not written again. Backends: framebuffer.py, window.py, and the headless fake in sim/."""

from __future__ import annotations

from typing import Protocol

from PIL import Image

from terminal.hw.device import DeviceCheck
from terminal.hw.layout import Layout


class Display(Protocol):
    name: str
    layout: Layout

    def show(self, image: Image.Image) -> bool:
        """Puts a canvas-sized image on the panel; False when it equals the frame shown."""

    def check(self) -> DeviceCheck: ...
    def close(self) -> None: ...


def pattern_image(layout: Layout, label: str = "") -> Image.Image:
    """Colour bars, a one-pixel border and the geometry as text: shows the panel's colour order,
    rotation and edges at a glance (for `qr-terminal hw try display` and the self-test)."""
    from PIL import ImageDraw

    from terminal.ui.fonts import FontError, font

    width, height = layout.canvas
    image = Image.new("RGB", (width, height), "black")
    draw = ImageDraw.Draw(image)
    colours = ("#FF0000", "#00FF00", "#0000FF", "#FFFFFF", "#FFFF00", "#00FFFF", "#FF00FF")
    bar = width // len(colours)
    for index, colour in enumerate(colours):
        draw.rectangle((index * bar, 0, (index + 1) * bar - 1, height // 2), fill=colour)
    draw.rectangle((0, 0, width - 1, height - 1), outline="white")
    draw.line((0, height - 1, 20, height - 21), fill="white")  # marks the bottom-left corner
    text = f"{width}×{height} {layout.orientation} {label}".strip()
    try:
        draw.text((8, height * 3 // 4), text, fill="white", font=font(max(12, height // 16)))
    except FontError:
        draw.text((8, height * 3 // 4), text.replace("×", "x"), fill="white")
    return image
