"""After the sale: today's history, reprint, refund with the manager PIN, the day close and its
Z report, and the technician menu."""

from __future__ import annotations

from dataclasses import replace

from terminal.core.keys import Key, KeyEvent
from terminal.core.money import format_won
from terminal.core.pin import PIN_MAX_DIGITS, pin_matches
from terminal.core.session import pinlock
from terminal.core.session.amount import history_at_receipt
from terminal.core.session.commands import (
    Feedback,
    PrintReceipt,
    PrintReport,
    RecordClose,
    RecordRefund,
    SelfTest,
    SyncNow,
)
from terminal.core.session.events import (
    Committed,
    DayClosed,
    Declined,
    Event,
    LedgerFailed,
    Scanned,
    SelfTestDone,
)
from terminal.core.session.flow import Result, go, is_typing_key, take_request, type_digits
from terminal.core.session.model import (
    CloseConfirm,
    Closing,
    History,
    Home,
    Notice,
    PinEntry,
    RefundAmount,
    RefundDone,
    Refunding,
    ReportView,
    State,
    Technician,
)
from terminal.core.session.report import remaining_won, z_report


def on_history(state: State, event: Event) -> Result | None:
    screen: History = state.screen
    newest_first = list(reversed(state.ctx.today))
    if isinstance(event, Scanned):
        return history_at_receipt(state, event.text)
    if not isinstance(event, KeyEvent):
        return None
    key = event.key
    if key is Key.CANCEL:
        return go(state, Home())
    if not newest_first:
        return None
    cursor = min(screen.cursor, len(newest_first) - 1)
    if key in (Key.F1, Key.F2):
        step = -1 if key is Key.F1 else 1
        return go(state, History(max(0, min(len(newest_first) - 1, cursor + step))))
    entry = newest_first[cursor]
    if key is Key.F3:
        return go(
            state, replace(screen, note="영수증을 다시 출력합니다"), PrintReceipt(entry, True)
        )
    if key is Key.F4:
        if entry.kind != "sale" or remaining_won(state.ctx.today, entry) <= 0:
            return go(state, replace(screen, note="환불할 수 없는 거래입니다"))
        return pinlock.open_pin_entry(state, "refund", entry.txn_id)
    return None


def on_pin(state: State, event: Event) -> Result | None:
    screen: PinEntry = state.screen
    if not isinstance(event, KeyEvent):
        return None
    key, config = event.key, state.ctx.config
    if key is Key.CANCEL:
        return go(state, History() if screen.purpose == "refund" else Home())
    if is_typing_key(key):
        if key is Key.BACKSPACE:
            typed = screen.typed[:-1]
        elif key is Key.CLEAR:
            typed = ""
        else:
            typed = (screen.typed + key.digit)[:PIN_MAX_DIGITS]
        return go(state, replace(screen, typed=typed))
    if key is not Key.ENTER:
        return None
    refused = pinlock.refuse_if_locked(state)  # locked while this screen was open: no check
    if refused is not None:
        return refused
    pin = pinlock.pin_for(screen.purpose)
    expected = config.technician_pin_hash if pin == pinlock.TECHNICIAN else config.manager_pin_hash
    if not pin_matches(screen.typed, expected):
        ctx, locked_ms = pinlock.after_wrong_pin(state.ctx, pin)
        if locked_ms:
            notice = pinlock.locked_notice(locked_ms, "PIN이 맞지 않습니다.")
            return go(state, notice, Feedback("refused"), ctx=ctx)
        # The screen shows the tries left from this PIN's count, the one that decides the lock.
        return go(state, replace(screen, typed=""), Feedback("refused"), ctx=ctx)
    return _after_pin(replace(state, ctx=pinlock.after_right_pin(state.ctx, pin)), screen)


def _after_pin(state: State, screen: PinEntry) -> Result:
    today = state.ctx.today
    if screen.purpose == "tech":
        return go(state, Technician())
    if screen.purpose == "close":
        return go(state, CloseConfirm(z_report(today)))
    original = next((e for e in today if e.txn_id == screen.txn_id), None)
    if original is None:
        return go(state, History(note="환불할 거래를 찾을 수 없습니다"))
    remaining = remaining_won(today, original)
    return go(state, RefundAmount(original, remaining, str(remaining)))


def on_refund_amount(state: State, event: Event) -> Result | None:
    screen: RefundAmount = state.screen
    if not isinstance(event, KeyEvent):
        return None
    key = event.key
    if key is Key.CANCEL:
        return go(state, History())
    if is_typing_key(key):
        digits, ok = type_digits(screen.digits, key, screen.remaining_won)
        note = "" if ok else f"환불 가능 금액은 {format_won(screen.remaining_won)}입니다"
        return go(state, replace(screen, digits=digits, note=note))
    if key is not Key.ENTER:
        return None
    amount = screen.typed_won
    if not 1 <= amount <= screen.remaining_won:
        return go(state, replace(screen, note="환불 금액을 입력하세요"))
    ctx, request = take_request(state.ctx)
    void = amount == screen.original.amount_won  # the whole sale, nothing refunded before
    command = RecordRefund(request, screen.original, amount, void)
    return go(state, Refunding(screen.original, amount, request), command, ctx=ctx)


def on_refunding(state: State, event: Event) -> Result | None:
    screen: Refunding = state.screen
    if isinstance(event, Committed) and event.request == screen.request:
        ctx = replace(state.ctx, today=(*state.ctx.today, event.entry))
        commands = [Feedback("approved")]
        if ctx.config.auto_print:
            commands.append(PrintReceipt(event.entry))
        return go(state, RefundDone(event.entry), *commands, ctx=ctx)
    if isinstance(event, Declined | LedgerFailed) and event.request == screen.request:
        lines = ("환불되지 않았습니다.", event.message_ko)
        return go(state, Notice("환불 실패", lines, "error"), Feedback("refused"))
    return None


def on_refund_done(state: State, event: Event) -> Result | None:
    if not isinstance(event, KeyEvent):
        return None
    if event.key is Key.F1:
        return go(state, state.screen, PrintReceipt(state.screen.entry))
    if event.key in (Key.ENTER, Key.CANCEL):
        return go(state, Home())
    return None


def on_close_confirm(state: State, event: Event) -> Result | None:
    if not isinstance(event, KeyEvent):
        return None
    if event.key is Key.CANCEL:
        return go(state, Home())
    if event.key is Key.ENTER:
        ctx, request = take_request(state.ctx)
        return go(state, Closing(request), RecordClose(request), ctx=ctx)
    return None


def on_closing(state: State, event: Event) -> Result | None:
    screen: Closing = state.screen
    if isinstance(event, DayClosed) and event.request == screen.request:
        ctx = replace(state.ctx, today=())  # a new day starts after the close
        commands = [PrintReport(event.report)] if ctx.config.auto_print else []
        return go(state, ReportView(event.report), Feedback("approved"), *commands, ctx=ctx)
    if isinstance(event, LedgerFailed) and event.request == screen.request:
        lines = ("마감하지 못했습니다.", event.message_ko)
        return go(state, Notice("마감 실패", lines, "error"), Feedback("refused"))
    return None


def on_report(state: State, event: Event) -> Result | None:
    if not isinstance(event, KeyEvent):
        return None
    if event.key is Key.F1:
        return go(state, state.screen, PrintReport(state.screen.report))
    if event.key in (Key.ENTER, Key.CANCEL):
        return go(state, Home())
    return None


def on_technician(state: State, event: Event) -> Result | None:
    if isinstance(event, SelfTestDone):
        return go(state, Technician(event.lines))
    if not isinstance(event, KeyEvent):
        return None
    if event.key is Key.F1:
        return go(state, Technician(("동기화를 요청했습니다",)), SyncNow())
    if event.key is Key.F2:
        return go(state, Technician(("자체 점검 중…",)), SelfTest())
    if event.key is Key.CANCEL:
        return go(state, Home())
    return None


def on_notice(state: State, event: Event) -> Result | None:
    if isinstance(event, KeyEvent) and event.key in (Key.ENTER, Key.CANCEL):
        return go(state, Home())
    return None
