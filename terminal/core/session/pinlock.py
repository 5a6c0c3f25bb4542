"""Wrong-PIN throttling: after `max_pin_tries` wrong PINs in a row PIN entry locks for a while,
and each further lock in a row lasts twice as long (up to `pin_lockout_max_ms`). One count of
wrong PINs decides the lock and what the PIN screen says: it spans screens and both PINs, so
cancelling and coming back does not reset it; a right PIN does.

Time is the session's own monotonic `mono_ms` (the last Tick); nothing here reads a clock. The
wall clock plays no part: set back it could stretch a lock, set forward (NTP's first sync on a
Pi without a real-time clock) it would end one at once.

A restart must not reset any of it, or a power cut would give three fresh tries. The app keeps
`saved(ctx)` (the count and the time the lock has left) in the state directory whenever it
changes, and the next start begins from `initial_state(config, saved, mono_ms)`. Monotonic
time restarts at boot, so a lock's time left is kept, not its start, and it counts down again
from the start: a power cut during a lock leaves at least the time it had left.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from terminal.core.session.commands import Feedback
from terminal.core.session.flow import Result, go
from terminal.core.session.model import Context, Notice, PinEntry, SessionConfig, State

# The time left is saved rounded up to this step: a lock of 15 minutes is written about 30
# times (an SD card takes few writes), and a power cut gives back at most one step more.
SAVE_STEP_MS = 30_000


@dataclass(frozen=True)
class SavedPinLock:
    """What of the PIN lock outlives the app: the wrong PINs in a row, and how long the running
    lock has left (never less than it really has)."""

    failures: int = 0
    remaining_ms: int = 0

    @classmethod
    def unknown(cls, config: SessionConfig) -> SavedPinLock:
        """For a saved lock that cannot be read: locked, as after one run of wrong PINs. The
        safe side, since an unreadable file must not be a way to fresh tries."""
        return cls(max(1, config.max_pin_tries), config.pin_lockout_ms)


def remaining_ms(ctx: Context) -> int:
    """How long PIN entry stays locked from `ctx.mono_ms` on; 0 when it is open."""
    if not ctx.pin_locked_ms:
        return 0
    left = ctx.pin_locked_at_mono_ms + ctx.pin_locked_ms - ctx.mono_ms
    return max(0, min(left, ctx.pin_locked_ms))


def lock_length_ms(ctx: Context, failures: int) -> int:
    """The lock that `failures` wrong PINs in a row earn: 0 until a multiple of the tries."""
    config = ctx.config
    tries = _tries(config)
    if failures < tries or failures % tries:
        return 0
    doublings = min(failures // tries - 1, 32)  # bounded: 2**32 · 30 s is past any cap
    return min(config.pin_lockout_ms << doublings, config.pin_lockout_max_ms)


def tries_left(ctx: Context) -> int:
    """Wrong PINs still allowed before the next lock, from the one count of wrong PINs."""
    tries = _tries(ctx.config)
    return tries - ctx.pin_failures % tries


def next_lock_ms(ctx: Context) -> int:
    """The lock that `tries_left` more wrong PINs would start."""
    return lock_length_ms(ctx, ctx.pin_failures + tries_left(ctx))


def after_wrong_pin(ctx: Context) -> tuple[Context, int]:
    """The context after one more wrong PIN, and the lock it started (0: none)."""
    failures = ctx.pin_failures + 1
    length = lock_length_ms(ctx, failures)
    if not length:
        return replace(ctx, pin_failures=failures), 0
    locked = replace(
        ctx, pin_failures=failures, pin_locked_at_mono_ms=ctx.mono_ms, pin_locked_ms=length
    )
    return locked, length


def after_right_pin(ctx: Context) -> Context:
    return replace(ctx, pin_failures=0, pin_locked_at_mono_ms=0, pin_locked_ms=0)


def saved(ctx: Context) -> SavedPinLock:
    """What the app keeps across a restart: the count, and the time left rounded up to
    SAVE_STEP_MS (not past the lock's own length), so it changes only every step."""
    left = remaining_ms(ctx)
    rounded = min(-(-left // SAVE_STEP_MS) * SAVE_STEP_MS, ctx.pin_locked_ms)
    return SavedPinLock(ctx.pin_failures, rounded)


def restore(ctx: Context, kept: SavedPinLock) -> Context:
    """`ctx` with a saved lock running again from `ctx.mono_ms` for the time it had left (at
    most the longest lock: a saved value cannot lock the counter for longer than that)."""
    left = max(0, min(kept.remaining_ms, ctx.config.pin_lockout_max_ms))
    return replace(
        ctx,
        pin_failures=max(0, kept.failures),
        pin_locked_at_mono_ms=ctx.mono_ms if left else 0,
        pin_locked_ms=left,
    )


def wait_text(ms: int) -> str:
    """'25초' or '3분' (rounded up: never says less than the wait)."""
    seconds = -(-ms // 1000)
    return f"{seconds}초" if seconds < 60 else f"{-(-seconds // 60)}분"


LOCKED_TITLE = "PIN 입력 잠김"


def locked_notice(wait_ms: int, first_line: str = "PIN을 여러 번 틀렸습니다.") -> Notice:
    """What the shopkeeper sees while PIN entry is locked. A notice, not a note on home: it
    takes only Enter or Cancel, so a PIN typed at it is not read as an amount to charge."""
    return Notice(LOCKED_TITLE, (first_line, f"{wait_text(wait_ms)} 후에 다시 하세요."), "error")


def refuse_if_locked(state: State) -> Result | None:
    """The locked notice and the refused sound while PIN entry is locked; None when it is
    open."""
    wait = remaining_ms(state.ctx)
    if not wait:
        return None
    return go(state, locked_notice(wait), Feedback("refused"))


def open_pin_entry(state: State, purpose: str, txn_id: str = "") -> Result:
    """PIN entry for `purpose`, or the locked notice with the wait when PIN entry is locked."""
    return refuse_if_locked(state) or go(state, PinEntry(purpose, txn_id=txn_id))


def _tries(config: SessionConfig) -> int:
    return max(1, config.max_pin_tries)
