"""Home, amount entry and the preset item list: from a key press to the amount to charge."""

from __future__ import annotations

from dataclasses import replace

from terminal.core.keys import Key, KeyEvent
from terminal.core.money import format_won
from terminal.core.session import pinlock
from terminal.core.session.commands import CreateCharge
from terminal.core.session.events import Event, Scanned
from terminal.core.session.flow import Result, go, is_typing_key, take_request, type_digits
from terminal.core.session.model import (
    AmountEntry,
    Charge,
    History,
    Home,
    Items,
    Preset,
    State,
    limit_won,
)


def on_home(state: State, event: Event) -> Result | None:
    if isinstance(event, Scanned):
        return history_at_receipt(state, event.text)
    if not isinstance(event, KeyEvent):
        return None
    key = event.key
    if key.digit is not None:
        return on_amount(state, event, AmountEntry())
    if key in (Key.F3, Key.MENU):
        return pinlock.open_pin_entry(state, "close" if key is Key.F3 else "tech")
    targets = {Key.F1: Items(AmountEntry()), Key.F2: History()}
    return go(state, targets[key]) if key in targets else None


def history_at_receipt(state: State, text: str) -> Result | None:
    """A scanned digital receipt of today opens the history on that transaction."""
    prefix = state.ctx.config.receipt_prefix
    if not text.startswith(prefix):
        return None
    newest_first = list(reversed(state.ctx.today))
    for index, entry in enumerate(newest_first):
        if entry.txn_id == text[len(prefix) :]:
            return go(state, History(cursor=index))
    return go(state, History(note="오늘 거래에서 찾을 수 없는 영수증입니다"))


def on_amount(state: State, event: Event, entry: AmountEntry | None = None) -> Result | None:
    entry = entry if entry is not None else state.screen
    if not isinstance(event, KeyEvent):
        return None
    key, limit = event.key, limit_won(state.ctx.config)
    if is_typing_key(key):
        if key is Key.BACKSPACE and not entry.digits and entry.lines:
            return go(state, replace(entry, lines=entry.lines[:-1], note=""))
        digits, ok = type_digits(entry.digits, key, limit - (entry.total_won - entry.typed_won))
        note = "" if ok else f"1회 최대 {format_won(limit)}"
        return go(state, replace(entry, digits=digits, note=note))
    if key is Key.PLUS:
        if not entry.digits:
            return None
        line = Preset("", entry.typed_won)
        return go(state, AmountEntry(lines=(*entry.lines, line)))
    if key is Key.F1:
        return go(state, Items(entry)) if state.ctx.config.presets else None
    if key is Key.ENTER:
        if entry.total_won <= 0:
            return go(state, replace(entry, note="금액을 입력하세요"))
        return start_charge(state, entry.total_won)
    if key is Key.CANCEL:
        return go(state, Home())
    return None


def start_charge(state: State, list_won: int) -> Result:
    """Asks for a signed sale QR; the charge screen shows it once it is ready."""
    price = state.ctx.config.price(list_won)  # the configuration's rule (price_sale)
    ctx, request = take_request(state.ctx)
    amount, discount = price.charged_won, price.discount_won
    charge = Charge(list_won, discount, amount, request, asked_ms=ctx.now_ms)
    return go(state, charge, CreateCharge(request, amount, list_won, discount), ctx=ctx)


def on_items(state: State, event: Event) -> Result | None:
    screen: Items = state.screen
    if not isinstance(event, KeyEvent):
        return None
    key, presets = event.key, state.ctx.config.presets
    if is_typing_key(key):
        typed, _ = type_digits(screen.typed, key, len(presets))
        return go(state, replace(screen, typed=typed))
    if key is Key.CANCEL:
        return go(state, screen.entry)
    if key is not Key.ENTER or not screen.typed:
        return None
    item = presets[int(screen.typed) - 1]
    entry = screen.entry
    if entry.total_won + item.amount_won > limit_won(state.ctx.config):
        note = f"1회 최대 {format_won(limit_won(state.ctx.config))}"
        return go(state, replace(entry, note=note))
    # A half-typed amount becomes a line of its own before the item is added.
    typed = (Preset("", entry.typed_won),) if entry.digits else ()
    return go(state, AmountEntry(lines=(*entry.lines, *typed, item)))
