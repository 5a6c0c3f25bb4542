"""Wrong-PIN throttling: after `max_pin_tries` wrong PINs in a row PIN entry locks for a while,
and each further lock in a row lasts twice as long (up to `pin_lockout_max_ms`). The count
spans screens and both PINs, so cancelling and coming back does not reset it; a right PIN does.

Time is the session's own `now_ms` (the last Tick); nothing here reads a clock. A wall clock
set back while locked keeps the lock for its whole length from the earlier reading on (the
remaining time never exceeds the lock's length), so it cannot be cut short that way.
"""

from __future__ import annotations

from dataclasses import replace

from terminal.core.session.commands import Feedback
from terminal.core.session.flow import Result, go
from terminal.core.session.model import Context, Notice, PinEntry, State


def remaining_ms(ctx: Context) -> int:
    """How long PIN entry stays locked from `ctx.now_ms` on; 0 when it is open."""
    if not ctx.pin_locked_ms:
        return 0
    left = ctx.pin_locked_at_ms + ctx.pin_locked_ms - ctx.now_ms
    return max(0, min(left, ctx.pin_locked_ms))


def lock_length_ms(ctx: Context, failures: int) -> int:
    """The lock that `failures` wrong PINs in a row earn: 0 until a multiple of the tries."""
    config = ctx.config
    tries = max(1, config.max_pin_tries)
    if failures < tries or failures % tries:
        return 0
    doublings = min(failures // tries - 1, 32)  # bounded: 2**32 · 30 s is past any cap
    return min(config.pin_lockout_ms << doublings, config.pin_lockout_max_ms)


def after_wrong_pin(ctx: Context) -> tuple[Context, int]:
    """The context after one more wrong PIN, and the lock it started (0: none)."""
    failures = ctx.pin_failures + 1
    length = lock_length_ms(ctx, failures)
    if not length:
        return replace(ctx, pin_failures=failures), 0
    return replace(
        ctx, pin_failures=failures, pin_locked_at_ms=ctx.now_ms, pin_locked_ms=length
    ), length


def after_right_pin(ctx: Context) -> Context:
    return replace(ctx, pin_failures=0, pin_locked_at_ms=0, pin_locked_ms=0)


def wait_text(ms: int) -> str:
    """'25초' or '3분' (rounded up: never says less than the wait)."""
    seconds = -(-ms // 1000)
    return f"{seconds}초" if seconds < 60 else f"{-(-seconds // 60)}분"


LOCKED_TITLE = "PIN 입력 잠김"


def locked_notice(wait_ms: int, first_line: str = "PIN을 여러 번 틀렸습니다.") -> Notice:
    """What the shopkeeper sees while PIN entry is locked. A notice, not a note on home: it
    takes only Enter or Cancel, so a PIN typed at it is not read as an amount to charge."""
    return Notice(LOCKED_TITLE, (first_line, f"{wait_text(wait_ms)} 후에 다시 하세요."), "error")


def open_pin_entry(state: State, purpose: str, txn_id: str = "") -> Result:
    """PIN entry for `purpose`, or the locked notice with the wait when PIN entry is locked."""
    if remaining_ms(state.ctx):
        return go(state, locked_notice(remaining_ms(state.ctx)), Feedback("refused"))
    return go(state, PinEntry(purpose, txn_id=txn_id))
