"""Draws the terminal's screens (state → image) at the display's size, in the issuer's colours.

`render(state, size, theme)` draws any session state inside the common frame (status bar, soft
keys) and returns the image, its touch targets, and the box of everything drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from terminal.core.keys import Key
from terminal.core.money import format_won
from terminal.core.session.model import (
    AmountEntry,
    Approved,
    Authorizing,
    Booting,
    Charge,
    CloseConfirm,
    Closing,
    History,
    Home,
    Items,
    Notice,
    PinEntry,
    Recording,
    RefundAmount,
    RefundDone,
    Refunding,
    Refused,
    ReportView,
    State,
    Technician,
)
from terminal.hw.layout import TouchTarget
from terminal.ui import views_manage as manage
from terminal.ui import views_sale as sale
from terminal.ui.codeimage import render_qr
from terminal.ui.fonts import font
from terminal.ui.frame import draw_keypad, draw_soft_keys, draw_status
from terminal.ui.paint import Drawn, Painter, Theme

# Per screen: its view, its soft keys (key, label) and the hint shown when it has none.
# A view that returns touch targets adds them to the soft keys'.
VIEWS = {
    Booting: (sale.view_booting, (), ""),
    Home: (
        sale.view_home,
        ((Key.F1, "상품"), (Key.F2, "거래내역"), (Key.F3, "마감"), (Key.MENU, "메뉴")),
        "",
    ),
    AmountEntry: (sale.view_amount, (), "+ 더하기 · Enter 결제 · 취소"),
    Items: (sale.view_items, (), "번호 입력 후 Enter · 취소"),
    Charge: (sale.view_charge, None, ""),  # None: the view uses the full height
    Authorizing: (sale.view_waiting, (), ""),
    Recording: (sale.view_waiting, (), ""),
    Approved: (sale.view_approved, ((Key.F1, "영수증 출력"), (Key.ENTER, "확인")), ""),
    Refused: (sale.view_refused, ((Key.ENTER, "다시"), (Key.CANCEL, "끝내기")), ""),
    Notice: (sale.view_notice, ((Key.ENTER, "확인"),), ""),
    History: (
        manage.view_history,
        ((Key.F1, "위"), (Key.F2, "아래"), (Key.F3, "재출력"), (Key.F4, "환불")),
        "",
    ),
    PinEntry: (manage.view_pin, (), "숫자 입력 후 Enter · 취소"),
    RefundAmount: (manage.view_refund_amount, (), "Enter 환불 · 취소"),
    Refunding: (manage.view_busy("환불 중…"), (), ""),
    RefundDone: (manage.view_refund_done, ((Key.F1, "영수증"), (Key.ENTER, "확인")), ""),
    CloseConfirm: (manage.view_close_confirm, (), ""),
    Closing: (manage.view_busy("마감 중…"), (), ""),
    ReportView: (manage.view_report, ((Key.F1, "인쇄"), (Key.ENTER, "확인")), ""),
    Technician: (
        manage.view_technician,
        ((Key.F1, "동기화"), (Key.F2, "자체 점검"), (Key.CANCEL, "나가기")),
        "",
    ),
}


# Screens where the shopkeeper types digits: an on-screen keypad beside them on touch panels.
TYPED_ON = (Home, AmountEntry, Items, PinEntry, RefundAmount)


@dataclass
class Frame:
    image: Image.Image
    targets: tuple[TouchTarget, ...]
    drawn: Drawn


def render(state: State, size: tuple[int, int], theme: Theme) -> Frame:
    """The frame the display shows for `state`."""
    view, soft_keys, hint = VIEWS[type(state.screen)]
    image = Image.new("RGB", size, theme.paper)
    painter = Painter(image, theme)
    top = draw_status(painter, state.ctx.config.brand, state.ctx.status, state.ctx.now_ms)
    targets: tuple[TouchTarget, ...] = ()
    bottom = size[1]
    if soft_keys is not None:
        bottom, targets = draw_soft_keys(painter, soft_keys, hint)
    box = (0, top, size[0], bottom)
    if theme.keypad and type(state.screen) in TYPED_ON:
        box, keys = draw_keypad(painter, box)
        targets += keys
    more = view(painter, box, state)
    return Frame(image, targets + tuple(more or ()), painter.drawn)


# --- single pictures kept for the scripted demo ---------------------------------------------


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
