"""The selling screens: boot, home, amount entry, items, charge (QR + camera), checking,
approved, refused and notices. Each view draws into the content box it is given."""

from __future__ import annotations

from terminal.core.keys import Key
from terminal.core.money import format_won
from terminal.core.session.model import (
    AmountEntry,
    Approved,
    Authorizing,
    Charge,
    Home,
    Items,
    Notice,
    Recording,
    Refused,
    State,
)
from terminal.core.session.report import z_report
from terminal.hw.layout import TouchTarget
from terminal.ui.codeimage import RenderError, render_qr
from terminal.ui.paint import Box, Painter

CHARGE_PROMPT = "QR을 스캔하거나 결제 코드를 보여 주세요"


def rows(box: Box, *weights: int) -> list[Box]:
    """Splits a box top to bottom in proportion to `weights`."""
    left, top, right, bottom = box
    total, edges, acc = sum(weights), [top], 0
    for weight in weights:
        acc += weight
        edges.append(top + (bottom - top) * acc // total)
    return [(left, edges[i], right, edges[i + 1]) for i in range(len(weights))]


def inset(box: Box, dx: int, dy: int | None = None) -> Box:
    dy = dx if dy is None else dy
    return (box[0] + dx, box[1] + dy, box[2] - dx, box[3] - dy)


def unit(p: Painter) -> int:
    """The type scale: 1/12 of the panel height (20 px on a 240-line panel)."""
    return p.height // 12


def view_booting(p: Painter, box: Box, state: State) -> None:
    p.text("준비 중…", inset(box, unit(p)), unit(p) * 2, p.theme.muted, "center")


def view_home(p: Painter, box: Box, state: State) -> None:
    screen: Home = state.screen
    config, u = state.ctx.config, unit(p)
    report = z_report(state.ctx.today)
    name, label, total, count, hint = rows(inset(box, u // 2), 3, 2, 5, 2, 3)
    p.paragraph(config.merchant_name, name, int(u * 1.4), p.theme.ink, "center")
    p.text("오늘 매출", label, u, p.theme.muted, "center")
    p.text(format_won(report.net_won), total, u * 4, p.theme.ink, "center")
    p.text(f"{report.sales_count + report.stand_count}건", count, u, p.theme.muted, "center")
    hint_text = screen.note or "금액을 누르면 결제를 시작합니다"
    colour = p.theme.error if screen.note else p.theme.primary
    p.paragraph(hint_text, hint, u, colour, "center")


def view_amount(p: Painter, box: Box, state: State) -> None:
    entry: AmountEntry = state.screen
    config, u = state.ctx.config, unit(p)
    lines_box, amount_box, after_box, note_box = rows(inset(box, u // 2), 4, 5, 2, 2)
    room = (lines_box[3] - lines_box[1]) // 13  # lines of at least 11 px that fit
    shown = entry.lines[-max(0, min(3, room)) :] if room > 0 else ()
    if shown:
        line_boxes = rows(lines_box, *([1] * len(shown)))
        for line, line_box in zip(shown, line_boxes, strict=True):
            text = f"+ {format_won(line.amount_won)} {line.label}".strip()
            p.text(text, line_box, int(u * 0.9), p.theme.muted, "right")
    else:
        p.text("결제 금액", lines_box, u, p.theme.muted, "left")
    p.text(format_won(entry.total_won), amount_box, u * 4, p.theme.ink, "right")
    if config.discount_bp and entry.total_won:
        from terminal.core.session.report import upfront_discount

        discount = upfront_discount(entry.total_won, config.discount_bp)
        text = f"선할인 {config.discount_bp / 100:g}% → {format_won(entry.total_won - discount)}"
        p.text(text, after_box, u, p.theme.accent, "right")
    p.text(entry.note, note_box, u, p.theme.error, "right")


def view_items(p: Painter, box: Box, state: State) -> None:
    screen: Items = state.screen
    presets, u = state.ctx.config.presets, unit(p)
    list_box, typed_box = rows(inset(box, u // 3), 9, 2)
    layouts = [_item_cells(presets, list_box, columns, u) for columns in (1, 2)]
    sizes = [p.common_size(cells, u, 8) for cells in layouts]
    cells, size = (layouts[0], sizes[0]) if sizes[0] > sizes[1] else (layouts[1], sizes[1])
    for text, cell in cells:
        p.text(text, cell, size, p.theme.ink, "left", 8)
    p.text(f"상품 번호: {screen.typed or '_'}", typed_box, u, p.theme.primary, "center")


def _item_cells(presets, box: Box, columns: int, u: int) -> list[tuple[str, Box]]:
    per_column = -(-len(presets) // columns)
    left, top, right, bottom = box
    width = (right - left) // columns
    cells = []
    for index, item in enumerate(presets):
        column, row = divmod(index, per_column)
        x0 = left + column * width + (u // 4 if column else 0)
        cell = rows((x0, top, left + (column + 1) * width - u // 4, bottom), *([1] * per_column))
        cells.append((f"{index + 1}. {item.label} {format_won(item.amount_won)}", cell[row]))
    return cells


def view_charge(p: Painter, box: Box, state: State) -> tuple[TouchTarget, ...]:
    """Landscape: amount and prompt on the left, the QR as large as the height allows on the
    right. Portrait: the amount above the QR."""
    charge: Charge = state.screen
    u = unit(p)
    left, top, right, bottom = box
    landscape = p.width > p.height
    side = (
        min(bottom - top, (right - left) * 11 // 20)
        if landscape
        else min(right - left, (bottom - top) * 3 // 5)
    )
    if landscape:
        qr_at = (right - side, top)
        info = (left + u // 2, top, right - side - u // 3, bottom)
    else:
        qr_at = ((left + right - side) // 2, bottom - side)
        info = (left + u // 2, top, right - u // 2, bottom - side)
    if charge.payload:
        try:
            p.picture(render_qr(charge.payload, side), qr_at)
        except RenderError:
            p.text(
                "QR을 그릴 수 없습니다",
                (*qr_at, qr_at[0] + side, qr_at[1] + side),
                u,
                p.theme.error,
                "center",
            )
    else:
        waiting = charge.note if charge.note and not charge.asked_ms else "QR 만드는 중…"
        p.rect((*qr_at, qr_at[0] + side, qr_at[1] + side), p.theme.band)
        p.paragraph(
            waiting,
            inset((*qr_at, qr_at[0] + side, qr_at[1] + side), u // 2),
            u,
            p.theme.muted,
            "center",
        )
    if not landscape:  # little height above the code: amount, one message, the cancel key
        amount, message, cancel = rows(info, 4, 4, 3)
        shown = charge.note if charge.note and charge.payload else CHARGE_PROMPT
        colour = p.theme.error if shown is charge.note else p.theme.primary
        p.text(format_won(charge.amount_won), amount, u * 2, p.theme.ink, "center")
        p.paragraph(shown, message, int(u * 0.8), colour, "center")
    else:
        label, amount, discount, prompt, note, cancel = rows(info, 2, 4, 2, 5, 3, 3)
        p.text("결제 금액", label, u, p.theme.muted)
        p.text(format_won(charge.amount_won), amount, u * 3, p.theme.ink)
        if charge.discount_won:
            p.text(f"선할인 -{format_won(charge.discount_won)}", discount, u, p.theme.accent)
        p.paragraph(CHARGE_PROMPT, prompt, u, p.theme.primary)
        if charge.note and charge.payload:
            p.paragraph(charge.note, note, int(u * 0.8), p.theme.error)
    p.rect(inset(cancel, 0, 1), p.theme.band)
    p.text("취소", inset(cancel, u // 2, 2), u, p.theme.ink, "center")
    return (TouchTarget(cancel, Key.CANCEL),)


def view_waiting(p: Painter, box: Box, state: State) -> None:
    screen = state.screen
    u = unit(p)
    title = {
        Authorizing: "승인 중…" if getattr(screen, "kind", "") == "code" else "영수증 확인 중…",
        Recording: "저장 중…",
    }.get(type(screen), "처리 중…")
    amount = screen.charge.amount_won
    top, middle, bottom = rows(inset(box, u), 3, 3, 2)
    p.text(title, top, u * 2, p.theme.primary, "center")
    p.text(format_won(amount), middle, u * 3, p.theme.ink, "center")
    p.text("잠시만 기다려 주세요", bottom, u, p.theme.muted, "center")


def view_approved(p: Painter, box: Box, state: State) -> None:
    screen: Approved = state.screen
    entry, u = screen.entry, unit(p)
    p.rect(box, p.theme.ok)
    left, top, right, bottom = box
    side = min(bottom - top, (right - left) * 2 // 5) - u // 2
    qr_at = (right - side - u // 4, top + (bottom - top - side) // 2)
    try:
        p.picture(render_qr(screen.receipt_text, side), qr_at)
    except RenderError:
        side = 0
    info = (left + u // 2, top + u // 4, qr_at[0] - u // 3, bottom - u // 4)
    title, amount, *details = rows(info, 3, 3, 2, 2, 2, 2)
    p.text("결제 완료", title, u * 2, "white")
    p.text(format_won(entry.amount_won), amount, int(u * 2.5), "white")
    facts = []
    if entry.discount_won:
        facts.append(f"선할인 -{format_won(entry.discount_won)}")
    if entry.cashback_won:
        facts.append(f"적립 {format_won(entry.cashback_won)}")
        layers = (("시", entry.city_won), ("구", entry.district_won), ("상생", entry.merchant_won))
        facts.append(" · ".join(f"{name} {won:,}" for name, won in layers if won))
    if entry.offline:
        facts.append("오프라인 승인")
    for text, detail in zip(facts, details, strict=False):
        p.text(text, detail, u, "white", "left", 8)


def view_refused(p: Painter, box: Box, state: State) -> None:
    screen: Refused = state.screen
    u = unit(p)
    p.rect(box, p.theme.error)
    title, message = rows(inset(box, u // 2), 3, 7)
    p.text("결제 거절", title, u * 2, "white", "center")
    p.paragraph(screen.message_ko, message, int(u * 1.2), "white", "center")


def view_notice(p: Painter, box: Box, state: State) -> None:
    screen: Notice = state.screen
    u = unit(p)
    background = p.theme.error if screen.tone == "error" else p.theme.primary
    p.rect(box, background)
    title, message = rows(inset(box, u // 2), 3, 7)
    p.text(screen.title, title, u * 2, "white", "center")
    p.paragraph("\n".join(screen.lines), message, int(u * 1.1), "white", "center")
