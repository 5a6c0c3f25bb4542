"""The shopkeeper's other screens: today's history, PIN, refund, day close and its Z report,
and the technician menu."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from terminal.core.money import format_won
from terminal.core.session import pinlock
from terminal.core.session.model import (
    CloseConfirm,
    History,
    PinEntry,
    RefundAmount,
    RefundDone,
    ReportView,
    State,
    Technician,
    TxnEntry,
    ZReport,
)
from terminal.ui.frame import DEVICE_NAMES
from terminal.ui.paint import Box, Painter
from terminal.ui.views_sale import inset, rows, unit

KIND_NAMES = {"sale": "", "refund": "환불", "void": "취소", "stand": "고정QR"}
METHOD_NAMES = {"mpm": "QR", "cpm": "코드"}


def clock_text(time_ms: int, timezone: str) -> str:
    moment = datetime.datetime.fromtimestamp(time_ms / 1000, ZoneInfo(timezone))
    return moment.strftime("%H:%M")


def entry_columns(entry: TxnEntry, timezone: str) -> tuple[str, str, str]:
    kind = KIND_NAMES.get(entry.kind, entry.kind)
    method = "고정QR" if entry.kind == "stand" else METHOD_NAMES.get(entry.method, entry.method)
    what = " ".join(t for t in (method, "" if entry.kind == "stand" else kind) if t)
    if entry.offline:
        what += " (오프라인)"
    sign = "" if entry.is_payment else "-"
    return clock_text(entry.time_ms, timezone), what, sign + format_won(entry.amount_won)


def view_history(p: Painter, box: Box, state: State) -> None:
    screen: History = state.screen
    u = unit(p)
    newest_first = list(reversed(state.ctx.today))
    title_box, list_box, note_box = rows(inset(box, u // 3, u // 6), 2, 10, 2)
    p.text(f"오늘 거래 {len(newest_first)}건", title_box, u, p.theme.muted)
    if not newest_first:
        p.text("오늘 거래가 없습니다", list_box, u, p.theme.muted, "center")
    visible = max(1, (list_box[3] - list_box[1]) // int(u * 1.5))
    cursor = min(screen.cursor, max(0, len(newest_first) - 1))
    first = max(0, min(cursor - visible // 2, len(newest_first) - visible))
    shown = newest_first[first : first + visible]
    cells = []  # (text, box, colour, align): drawn at one size, so the rows line up
    for offset, (entry, row) in enumerate(
        zip(shown, rows(list_box, *([1] * visible)), strict=False)
    ):
        if first + offset == cursor:
            p.rect(row, p.theme.band)
        when, what, amount = entry_columns(entry, p.theme.timezone)
        left, top, right, bottom = inset(row, u // 4, 1)
        width = right - left
        colour = p.theme.ink if entry.is_payment else p.theme.error
        cells += [
            (when, (left, top, left + width * 2 // 10, bottom), p.theme.muted, "left"),
            (
                what,
                (left + width * 22 // 100, top, left + width * 58 // 100, bottom),
                colour,
                "left",
            ),
            (amount, (left + width * 60 // 100, top, right, bottom), colour, "right"),
        ]
    size = p.common_size([(text, box) for text, box, _, _ in cells], u, 8)
    for text, box, colour, align in cells:
        p.text(text, box, size, colour, align, 8)
    p.text(screen.note, note_box, u, p.theme.accent, "center")


PIN_TITLES = {"refund": "환불: 관리자 PIN", "close": "마감: 관리자 PIN", "tech": "기술자 PIN"}


def view_pin(p: Painter, box: Box, state: State) -> None:
    screen: PinEntry = state.screen
    u = unit(p)
    title, dots, message = rows(inset(box, u), 3, 4, 3)
    p.text(PIN_TITLES[screen.purpose], title, int(u * 1.5), p.theme.ink, "center")
    p.text("●" * len(screen.typed) or "PIN을 입력하세요", dots, u * 2, p.theme.primary, "center")
    ctx, pin = state.ctx, pinlock.pin_for(screen.purpose)
    if pinlock.failures(ctx, pin):  # this PIN's count, the one that also decides the lock
        wait = pinlock.wait_text(pinlock.next_lock_ms(ctx, pin))
        warning = f"{pinlock.tries_left(ctx, pin)}번 더 틀리면 {wait} 동안 잠깁니다"
        p.paragraph(warning, message, u, p.theme.error, "center")


def view_refund_amount(p: Painter, box: Box, state: State) -> None:
    screen: RefundAmount = state.screen
    u = unit(p)
    original, label, amount, remaining, note = rows(inset(box, u // 2), 2, 2, 4, 2, 2)
    when, what, paid = entry_columns(screen.original, p.theme.timezone)
    p.paragraph(f"원거래 {when} {what} {paid}", original, u, p.theme.muted)
    p.text("환불 금액", label, u, p.theme.ink)
    p.text(format_won(screen.typed_won), amount, u * 3, p.theme.error, "right")
    p.text(f"환불 가능 {format_won(screen.remaining_won)}", remaining, u, p.theme.muted, "right")
    p.paragraph(screen.note, note, u, p.theme.error, "right")


def view_busy(title: str):
    def view(p: Painter, box: Box, state: State) -> None:
        u = unit(p)
        top, bottom = rows(inset(box, u), 3, 2)
        p.text(title, top, u * 2, p.theme.primary, "center")
        p.text("잠시만 기다려 주세요", bottom, u, p.theme.muted, "center")

    return view


def view_refund_done(p: Painter, box: Box, state: State) -> None:
    screen: RefundDone = state.screen
    u = unit(p)
    p.rect(box, p.theme.ok)
    title, amount, hint = rows(inset(box, u), 3, 3, 2)
    word = "취소 완료" if screen.entry.kind == "void" else "환불 완료"
    p.text(word, title, u * 2, "white", "center")
    p.text(format_won(screen.entry.amount_won), amount, int(u * 2.5), "white", "center")
    p.text("캐시백도 비율대로 되돌렸습니다", hint, u, "white", "center")


def report_lines(report: ZReport) -> list[tuple[str, str]]:
    return [
        ("판매", f"{report.sales_count}건 {format_won(report.sales_won)}"),
        ("  QR 결제", f"{report.mpm_count}건 {format_won(report.mpm_won)}"),
        ("  결제 코드", f"{report.cpm_count}건 {format_won(report.cpm_won)}"),
        ("  오프라인", f"{report.offline_count}건"),
        ("고정QR", f"{report.stand_count}건 {format_won(report.stand_won)}"),
        ("환불", f"{report.refund_count}건 -{format_won(report.refund_won)}"),
        ("선할인", format_won(report.discount_won)),
        ("캐시백", format_won(report.cashback_won)),
        ("순매출", format_won(report.net_won)),
        ("공급가액", format_won(report.supply_won)),
        ("부가세", format_won(report.vat_won)),
    ]


def draw_table(p: Painter, box: Box, lines: list[tuple[str, str]]) -> None:
    """Label/value rows in one or two column pairs, whichever allows the larger text; every
    cell at the same size so the table reads as one."""
    u = unit(p)
    layouts = [_table_cells(box, lines, columns, u) for columns in (1, 2)]
    sizes = [p.common_size(cells, u, 7) for cells in layouts]
    cells, size = (layouts[0], sizes[0]) if sizes[0] >= sizes[1] else (layouts[1], sizes[1])
    for index, (text, cell) in enumerate(cells):
        colour, align = (p.theme.muted, "left") if index % 2 == 0 else (p.theme.ink, "right")
        p.text(text, cell, size, colour, align, 7)


def _table_cells(box: Box, lines, columns: int, u: int) -> list[tuple[str, Box]]:
    per_column = -(-len(lines) // columns)
    left, top, right, bottom = box
    width = (right - left) // columns
    cells = []
    for index, (label, value) in enumerate(lines):
        column, row_index = divmod(index, per_column)
        column_box = (left + column * width, top, left + (column + 1) * width, bottom)
        x0, y0, x1, y1 = inset(rows(column_box, *([1] * per_column))[row_index], u // 4, 0)
        split = x0 + (x1 - x0) * 38 // 100
        cells += [(label, (x0, y0, split - 2, y1)), (value, (split + 2, y0, x1, y1))]
    return cells


def view_close_confirm(p: Painter, box: Box, state: State) -> None:
    screen: CloseConfirm = state.screen
    u = unit(p)
    title, table, hint = rows(inset(box, u // 4, u // 6), 2, 11, 2)
    p.text("오늘 마감 (미리보기)", title, u, p.theme.ink, "center")
    draw_table(p, table, report_lines(screen.preview))
    p.text("Enter: 마감 · 취소: 돌아가기", hint, u, p.theme.primary, "center")


def view_report(p: Painter, box: Box, state: State) -> None:
    screen: ReportView = state.screen
    u = unit(p)
    title, table = rows(inset(box, u // 4, u // 6), 2, 13)
    seq = f" (기록 #{screen.report.close_seq})" if screen.report.close_seq else ""
    p.text(f"Z 리포트: 마감 완료{seq}", title, u, p.theme.ok, "center")
    draw_table(p, table, report_lines(screen.report))


def view_technician(p: Painter, box: Box, state: State) -> None:
    screen: Technician = state.screen
    config, status, u = state.ctx.config, state.ctx.status, unit(p)
    troubles = ", ".join(f"{DEVICE_NAMES.get(d, d)}: {m}" for d, m in status.troubles) or "없음"
    lines = [
        ("단말기", config.device_id or "-"),
        ("버전", config.version or "-"),
        ("네트워크", "온라인" if status.online else "오프라인"),
        ("미전송 / 보류", f"{status.queue_depth} / {status.parked}"),
        ("시계", "신뢰" if status.clock_trusted else "확인 필요"),
        ("장치 이상", troubles),
    ]
    lines += [(f"점검 {i + 1}", line) for i, line in enumerate(screen.lines[:4])]
    title, table = rows(inset(box, u // 4, u // 6), 2, 13)
    p.text("기술자 메뉴", title, u, p.theme.ink, "center")
    draw_table(p, table, lines)
