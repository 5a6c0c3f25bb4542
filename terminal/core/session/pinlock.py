"""Wrong-PIN throttling: after `max_pin_tries` wrong tries at one PIN, PIN entry locks for a
while, and each further lock in a row lasts twice as long (up to `pin_lockout_max_ms`). Each PIN
(manager, technician) has one count of wrong tries, which decides the lock and what its PIN
screen says; it spans screens (refund and day close share the manager PIN), so cancelling and
coming back does not reset it; only that PIN typed right does. A right technician PIN leaves
the manager count as it is, and the other way round, so knowing one PIN does not give unlimited
guesses at the other. A lock, whichever count earned it, locks PIN entry for both: the same
person stands at the counter.

Time is the session's own monotonic `mono_ms` (the last Tick); nothing here reads a clock. The
wall clock plays no part: set back it could stretch a lock, set forward (NTP's first sync on a
Pi without a real-time clock) it would end one at once.

A restart must not reset any of it, or a power cut would give three fresh tries. The app keeps
`saved(ctx)` (the counts and the time the lock has left) in the state directory whenever it
changes, and the next start begins from `initial_state(config, saved, mono_ms)`. Monotonic
time restarts at boot, so a lock's time left is kept, not its start, and it counts down again
from the start: a power cut during a lock leaves at least the time it had left.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from terminal.core.session.commands import Feedback
from terminal.core.session.flow import Result, go
from terminal.core.session.model import Context, Notice, PinEntry, SessionConfig, State

MANAGER, TECHNICIAN = "manager", "technician"
PIN_OF_PURPOSE = {"refund": MANAGER, "close": MANAGER, "tech": TECHNICIAN}
# The time left is saved rounded up to this step: a lock of 15 minutes is written about 30
# times (an SD card takes few writes), and a power cut gives back at most one step more.
SAVE_STEP_MS = 30_000


@dataclass(frozen=True)
class SavedPinLock:
    """What of the PIN lock outlives the app: each PIN's wrong tries, and how long the running
    lock has left (never less than it really has)."""

    manager_failures: int = 0
    technician_failures: int = 0
    remaining_ms: int = 0

    @classmethod
    def unknown(cls, config: SessionConfig) -> SavedPinLock:
        """For a saved lock that cannot be read: locked, as after one run of wrong tries at
        each PIN. The safe side: an unreadable file must not be a way to fresh tries."""
        tries = _tries(config)
        return cls(tries, tries, config.pin_lockout_ms)


def pin_for(purpose: str) -> str:
    """Which PIN a PIN screen asks for: MANAGER (refund, day close) or TECHNICIAN."""
    return PIN_OF_PURPOSE[purpose]


def failures(ctx: Context, pin: str) -> int:
    """Wrong tries at `pin` since it was last typed right."""
    return ctx.manager_pin_failures if pin == MANAGER else ctx.technician_pin_failures


def _with_failures(ctx: Context, pin: str, count: int) -> Context:
    if pin == MANAGER:
        return replace(ctx, manager_pin_failures=count)
    return replace(ctx, technician_pin_failures=count)


def remaining_ms(ctx: Context) -> int:
    """How long PIN entry stays locked from `ctx.mono_ms` on; 0 when it is open."""
    if not ctx.pin_locked_ms:
        return 0
    left = ctx.pin_locked_at_mono_ms + ctx.pin_locked_ms - ctx.mono_ms
    return max(0, min(left, ctx.pin_locked_ms))


def lock_length_ms(ctx: Context, count: int) -> int:
    """The lock that `count` wrong tries at a PIN earn: 0 until a multiple of the tries."""
    config = ctx.config
    tries = _tries(config)
    if count < tries or count % tries:
        return 0
    doublings = min(count // tries - 1, 32)  # bounded: 2**32 · 30 s is past any cap
    return min(config.pin_lockout_ms << doublings, config.pin_lockout_max_ms)


def tries_left(ctx: Context, pin: str) -> int:
    """Wrong tries at `pin` still allowed before the next lock, from its one count."""
    tries = _tries(ctx.config)
    return tries - failures(ctx, pin) % tries


def next_lock_ms(ctx: Context, pin: str) -> int:
    """The lock that `tries_left` more wrong tries at `pin` would start."""
    return lock_length_ms(ctx, failures(ctx, pin) + tries_left(ctx, pin))


def after_wrong_pin(ctx: Context, pin: str) -> tuple[Context, int]:
    """The context after one more wrong try at `pin`, and the lock it started (0: none)."""
    count = failures(ctx, pin) + 1
    ctx = _with_failures(ctx, pin, count)
    length = lock_length_ms(ctx, count)
    if not length:
        return ctx, 0
    return replace(ctx, pin_locked_at_mono_ms=ctx.mono_ms, pin_locked_ms=length), length


def after_right_pin(ctx: Context, pin: str) -> Context:
    """`pin` typed right: its count starts again (a PIN is only checked with no lock running)."""
    return replace(_with_failures(ctx, pin, 0), pin_locked_at_mono_ms=0, pin_locked_ms=0)


def saved(ctx: Context) -> SavedPinLock:
    """What the app keeps across a restart: the counts, and the time left rounded up to
    SAVE_STEP_MS (not past the lock's own length), so it changes only every step."""
    left = remaining_ms(ctx)
    rounded = min(-(-left // SAVE_STEP_MS) * SAVE_STEP_MS, ctx.pin_locked_ms)
    return SavedPinLock(ctx.manager_pin_failures, ctx.technician_pin_failures, rounded)


def restore(ctx: Context, kept: SavedPinLock) -> Context:
    """`ctx` with a saved lock running again from `ctx.mono_ms` for the time it had left (at
    most the longest lock: a saved value cannot lock the counter for longer than that)."""
    left = max(0, min(kept.remaining_ms, ctx.config.pin_lockout_max_ms))
    return replace(
        ctx,
        manager_pin_failures=max(0, kept.manager_failures),
        technician_pin_failures=max(0, kept.technician_failures),
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
