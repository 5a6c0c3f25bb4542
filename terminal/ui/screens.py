"""Draws the terminal's screens (state → image) at the display's size, in the issuer's colours."""

from __future__ import annotations

from PIL import Image, ImageDraw

from terminal.core.money import format_won
from terminal.ui.codeimage import render_qr
from terminal.ui.fonts import font


def _header(draw: ImageDraw.ImageDraw, width: int, title: str, colour: str, font_file: str) -> int:
    height = max(28, width // 12)
    draw.rectangle((0, 0, width, height), fill=colour)
    draw.text(
        (10, height // 2), title, fill="white", font=font(height * 6 // 10, font_file), anchor="lm"
    )
    return height


def sale_qr_screen(
    payload: str,
    amount_won: int,
    brand: str,
    colour: str,
    size: tuple[int, int],
    font_file: str = "",
) -> Image.Image:
    """The screen a customer scans: brand bar, amount, and the sale QR as large as fits."""
    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    top = _header(draw, width, f"{brand}  QR 결제", colour, font_file)
    if width > height:  # landscape: amount on the left, code on the right
        qr_side = height - top - 4
        draw.text((12, top + 20), "결제 금액", fill="#444444", font=font(18, font_file))
        draw.text((12, top + 48), format_won(amount_won), fill="black", font=font(34, font_file))
        hint_font = font(16, font_file)
        draw.text((12, height - 30), "휴대폰으로 스캔하세요", fill="#444444", font=hint_font)
        image.paste(render_qr(payload, qr_side).convert("RGB"), (width - qr_side - 2, top + 2))
    else:  # portrait: amount above the code
        qr_side = min(width, height - top - 50) - 4
        amount_font = font(30, font_file)
        draw.text(
            (width // 2, top + 24),
            format_won(amount_won),
            fill="black",
            font=amount_font,
            anchor="mm",
        )
        image.paste(render_qr(payload, qr_side).convert("RGB"), ((width - qr_side) // 2, top + 48))
    return image


def message_screen(
    title: str, lines: list[str], colour: str, size: tuple[int, int], font_file: str = ""
) -> Image.Image:
    """A full-screen message: paid (green), refused (red), or information."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.text((width // 2, height // 3), title, fill="white", font=font(40, font_file), anchor="mm")
    for index, line in enumerate(lines):
        draw.text(
            (width // 2, height // 2 + 10 + index * 28),
            line,
            fill="white",
            font=font(20, font_file),
            anchor="mm",
        )
    return image
