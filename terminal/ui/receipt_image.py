"""Draws a receipt slip (sale or refund) as a black-and-white image the width of the paper, with
the screens' Hangul font, for printing as an ESC/POS raster. Pure drawing: facts in, image out.

Why an image and not ESC/POS text: Hangul needs a code page (KS C 5601 / CP949) or a font ROM
that many cheap 58 mm printers lack or select with vendor-specific commands, so the same bytes
print correctly on one model and as garbage on the next. A raster prints the same everywhere,
looks like the screen, and carries the QR as drawn pixels; it costs more bytes (a 384-dot line
is 48 bytes, ~40 KB a slip), which a 9600-baud serial printer takes in about 45 s, USB at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageDraw, ImageFont

from terminal.core.money import format_won
from terminal.ui.codeimage import render_qr
from terminal.ui.fonts import font

VAT_DIVISOR = 11  # prices include 10% VAT: VAT is 1/11 of the total


def vat_split(total_won: int) -> tuple[int, int]:
    """(공급가액, 부가세) of a VAT-inclusive total: VAT is total/11 rounded half up, the supply
    value the rest, so the two always add up to the total (negative totals mirror positive)."""
    sign = -1 if total_won < 0 else 1
    vat = (abs(total_won) * 2 + VAT_DIVISOR) // (2 * VAT_DIVISOR)
    return sign * (abs(total_won) - vat), sign * vat


@dataclass(frozen=True)
class MerchantFacts:
    name: str
    business_number: str  # 사업자등록번호
    address: str
    representative: str  # 대표자
    tax_exempt: bool  # 면세 사업자: no 부가세 line
    terminal_id: str


@dataclass(frozen=True)
class Slip:
    """One printed slip. Amounts are positive won; a refund says so by `kind`."""

    kind: str  # "sale" or "refund"
    merchant: MerchantFacts
    at: datetime  # local time of the transaction, as the shop's clock showed it
    list_won: int  # before 선할인
    discount_won: int  # 선할인 (0 when none)
    method: str  # e.g. "인천e음 QR (고객 제시)"
    approval_number: str  # the platform's; "" while an offline acceptance awaits sync
    txn_id: str
    seq: int
    cashback: tuple[tuple[str, int], ...]  # (layer name, won): city, district, 상생
    receipt_url: str  # the digital receipt, printed as a QR
    original_approval_number: str = ""  # a refund quotes the sale it reverses
    original_txn_id: str = ""

    @property
    def charged_won(self) -> int:
        return self.list_won - self.discount_won


class _Pen:
    """Writes lines top to bottom on a tall white canvas; the slip is cropped at the end."""

    def __init__(self, width: int, font_file: str):
        self.width, self.font_file = width, font_file
        self.margin = max(4, width // 48)
        self.image = Image.new("L", (width, 4000), 255)
        self.draw = ImageDraw.Draw(self.image)
        self.y = self.margin

    def font(self, size: int) -> ImageFont.FreeTypeFont:
        return font(size * self.width // 384, self.font_file)

    def centre(self, text: str, size: int) -> None:
        face = self.font(size)
        self.draw.text((self.width // 2, self.y), text, fill=0, font=face, anchor="mt")
        self.y += round(face.size * 1.35)

    def left(self, text: str, size: int = 20) -> None:
        face = self.font(size)
        for line in _wrap(text, face, self.width - 2 * self.margin):
            self.draw.text((self.margin, self.y), line, fill=0, font=face)
            self.y += round(face.size * 1.3)

    def pair(self, label: str, value: str, size: int = 20) -> None:
        face = self.font(size)
        self.draw.text((self.margin, self.y), label, fill=0, font=face)
        self.draw.text((self.width - self.margin, self.y), value, fill=0, font=face, anchor="ra")
        self.y += round(face.size * 1.3)

    def rule(self) -> None:
        self.y += 4
        self.draw.line((self.margin, self.y, self.width - self.margin, self.y), fill=0, width=2)
        self.y += 8

    def paste(self, picture: Image.Image) -> None:
        self.image.paste(picture, ((self.width - picture.width) // 2, self.y))
        self.y += picture.height + 4

    def finish(self) -> Image.Image:
        slip = self.image.crop((0, 0, self.width, self.y + self.margin * 4))
        # Thermal paper has no grey: threshold without dithering keeps text and QR edges sharp.
        return slip.point(lambda value: 255 if value >= 128 else 0).convert("1")


def _wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    for char in text:
        if face.getlength(line + char) > width and line:
            lines.append(line)
            line = char.lstrip()
        else:
            line += char
    return [*lines, line] if line else lines


def _won(amount: int, refund: bool) -> str:
    return format_won(-amount if refund else amount)


@dataclass(frozen=True)
class Line:
    """One line of a slip: "centre" or "left" text, a "pair" (label left, value right), a
    "rule", or the "qr" of `text`. `size` is in points at 384 dots, scaled to the paper."""

    style: str
    text: str = ""
    value: str = ""
    size: int = 20


def slip_lines(slip: Slip) -> list[Line]:
    """What the slip says, in order (tests read this; draw_slip only lays it out)."""
    if slip.kind not in ("sale", "refund"):
        raise ValueError(f"slip kind {slip.kind!r}: 'sale' or 'refund'")
    refund = slip.kind == "refund"
    m = slip.merchant
    lines = [
        Line("centre", "환불 영수증" if refund else "영수증", size=34),
        Line("centre", m.name, size=26),
        Line("left", f"사업자번호 {m.business_number}   대표 {m.representative}"),
        Line("left", m.address),
        Line("left", f"단말기 {m.terminal_id}"),
        Line("rule"),
        Line("pair", "거래일시", slip.at.strftime("%Y-%m-%d %H:%M:%S")),
        Line("pair", "결제수단", slip.method),
        Line("pair", "승인번호", slip.approval_number or "오프라인 승인 (전송 대기)"),
    ]
    if refund:
        lines.append(
            Line("pair", "원거래 승인번호", slip.original_approval_number or "오프라인 거래")
        )
        if slip.original_txn_id:
            lines.append(Line("left", f"원거래번호 {slip.original_txn_id}", size=16))
    lines.append(Line("rule"))
    if slip.discount_won:
        lines.append(Line("pair", "판매금액", _won(slip.list_won, refund)))
        lines.append(Line("pair", "선할인", _won(-slip.discount_won, refund)))
    total_label = "환불금액" if refund else "결제금액"
    lines.append(Line("pair", total_label, _won(slip.charged_won, refund), size=28))
    if m.tax_exempt:
        lines.append(Line("pair", "면세물품가액", _won(slip.charged_won, refund)))
    else:
        supply, vat = vat_split(slip.charged_won)
        lines.append(Line("pair", "공급가액", _won(supply, refund)))
        lines.append(Line("pair", "부가세", _won(vat, refund)))
    if slip.cashback:
        lines.append(Line("rule"))
        verb = "회수" if refund else "적립"
        lines += [
            Line("pair", f"{layer} {verb}", _won(won, refund)) for layer, won in slip.cashback
        ]
        total = sum(won for _, won in slip.cashback)
        lines.append(Line("pair", "캐시백 합계", _won(total, refund)))
    lines += [
        Line("rule"),
        Line("pair", "거래번호", f"일련번호 {slip.seq}", size=16),
        Line("left", slip.txn_id, size=16),
        Line("qr", slip.receipt_url),
        Line("centre", "모바일 영수증", size=18),
    ]
    return lines


def draw_slip(slip: Slip, width: int = 384, font_file: str = "") -> Image.Image:
    """The slip as a 1-bit image `width` dots wide (384 for 58 mm paper, 576 for 80 mm)."""
    pen = _Pen(width, font_file)
    for line in slip_lines(slip):
        if line.style == "centre":
            pen.centre(line.text, line.size)
        elif line.style == "left":
            pen.left(line.text, line.size)
        elif line.style == "pair":
            pen.pair(line.text, line.value, line.size)
        elif line.style == "rule":
            pen.rule()
        elif line.style == "qr":
            pen.y += 6
            pen.paste(render_qr(line.text, width * 3 // 5))
    return pen.finish()
