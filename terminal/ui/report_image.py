"""The Z report as a paper-width black-and-white image for the receipt printer."""

from __future__ import annotations

from PIL import Image, ImageDraw

from terminal.core.session.model import ZReport
from terminal.ui.fonts import font
from terminal.ui.views_manage import report_lines


def draw_report(report: ZReport, config, width: int = 384, font_file: str = "") -> Image.Image:
    """Title, merchant, device, then one label/value line per figure; cropped to its text."""
    size = max(14, width // 20)
    face, title_face = font(size, font_file), font(size * 3 // 2, font_file)
    line_h = int(size * 1.5)
    lines = report_lines(report)
    height = line_h * (len(lines) + 5)
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    margin = max(4, width // 48)
    draw.text((width // 2, line_h), "Z 리포트 (일 마감)", font=title_face, fill=0, anchor="mm")
    y = line_h * 2
    for text in (config.merchant.name_ko, f"단말기 {config.device.id}  기록 #{report.close_seq}"):
        draw.text((margin, y), text, font=face, fill=0)
        y += line_h
    draw.line((margin, y, width - margin, y), fill=0, width=2)
    y += line_h // 2
    for label, value in lines:
        draw.text((margin, y), label.strip(), font=face, fill=0)
        draw.text((width - margin, y), value, font=face, fill=0, anchor="ra")
        y += line_h
    return image.crop((0, 0, width, y + line_h // 2))
