"""Text that fits: a painter that shrinks or wraps each text into the box it was given and keeps
the ink box of everything it drew, so a test can prove that nothing is clipped or overlaps."""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from terminal.ui.fonts import font

Box = tuple[int, int, int, int]  # left, top, right, bottom (right/bottom excluded)


@dataclass(frozen=True)
class Theme:
    """The issuer's colours and the font; the session screens draw with nothing else."""

    primary: str = "#00A0E9"
    accent: str = "#F08300"
    font_file: str = ""
    timezone: str = "Asia/Seoul"
    ok: str = "#2E7D32"
    error: str = "#C62828"
    ink: str = "#111111"
    muted: str = "#555555"
    paper: str = "#FFFFFF"
    band: str = "#EEF2F5"
    keypad: bool = False  # draw an on-screen keypad where digits are typed (touch, window)


@dataclass
class Drawn:
    """What was drawn where: the ink box of each text and the box of each picture."""

    texts: list[tuple[str, Box, Box]] = field(default_factory=list)  # (text, ink, allotted)
    pictures: list[Box] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # texts that did not fit their box


class Painter:
    def __init__(self, image: Image.Image, theme: Theme):
        self.image, self.theme = image, theme
        self.draw = ImageDraw.Draw(image)
        self.drawn = Drawn()
        self.width, self.height = image.size

    def rect(self, box: Box, fill: str) -> None:
        left, top, right, bottom = box
        self.draw.rectangle((left, top, right - 1, bottom - 1), fill=fill)

    def picture(self, picture: Image.Image, at: tuple[int, int]) -> None:
        self.image.paste(picture.convert("RGB"), at)
        self.drawn.pictures.append((at[0], at[1], at[0] + picture.width, at[1] + picture.height))

    def text(
        self,
        text: str,
        box: Box,
        size: int,
        colour: str,
        align: str = "left",
        min_size: int = 9,
    ) -> bool:
        """Draws one line inside `box`, vertically centred, shrinking the font until it fits.
        False (and nothing drawn) when it does not fit even at `min_size`."""
        if not text:
            return True
        left, top, right, bottom = box
        for points in range(min(size, bottom - top), min_size - 1, -1):
            face = font(points, self.theme.font_file)
            ink = face.getbbox(text)
            ink_w, ink_h = ink[2] - ink[0], ink[3] - ink[1]
            if ink_w <= right - left and ink_h <= bottom - top:
                break
        else:
            self.drawn.failed.append(text)
            return False
        x = {"left": left, "center": left + (right - left - ink_w) // 2, "right": right - ink_w}
        x0 = x[align]
        y0 = top + (bottom - top - ink_h) // 2
        self.draw.text((x0 - ink[0], y0 - ink[1]), text, font=face, fill=colour)
        self.drawn.texts.append((text, (x0, y0, x0 + ink_w, y0 + ink_h), box))
        return True

    def common_size(self, cells: list[tuple[str, Box]], size: int, min_size: int = 9) -> int:
        """The largest font size (at most `size`) at which every text fits its box, so that a
        table reads as one; `min_size` when none does (the texts then report themselves)."""
        for points in range(size, min_size - 1, -1):
            face = font(points, self.theme.font_file)
            fits = True
            for text, (left, top, right, bottom) in cells:
                ink = face.getbbox(text) if text else (0, 0, 0, 0)
                if ink[2] - ink[0] > right - left or ink[3] - ink[1] > bottom - top:
                    fits = False
                    break
            if fits:
                return points
        return min_size

    def paragraph(
        self, text: str, box: Box, size: int, colour: str, align: str = "left", min_size: int = 9
    ) -> bool:
        """Wraps `text` at spaces into as many lines as fit `box`, shrinking until it does."""
        left, top, right, bottom = box
        for points in range(size, min_size - 1, -1):
            face = font(points, self.theme.font_file)
            line_h = int(points * 1.3)
            lines = wrap(text, lambda t, f=face: f.getlength(t), right - left)
            if lines is not None and line_h * len(lines) <= bottom - top:
                start = top + (bottom - top - line_h * len(lines)) // 2
                for index, line in enumerate(lines):
                    y = start + index * line_h
                    self.text(line, (left, y, right, y + line_h), points, colour, align, points)
                return True
        self.drawn.failed.append(text)
        return False


def wrap(text: str, measure, width: int) -> list[str] | None:
    """Greedy word wrap; None when a single word is wider than `width`."""
    lines: list[str] = []
    for part in text.split("\n"):
        line = ""
        for word in part.split(" "):
            candidate = f"{line} {word}".strip()
            if measure(candidate) <= width:
                line = candidate
                continue
            if not line or measure(word) > width:
                return None
            lines.append(line)
            line = word
        lines.append(line)
    return lines
