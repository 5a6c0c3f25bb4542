"""`step(state, event) -> (state, commands)`: the whole session as one pure function.

Events about the world (status, clock trust, device trouble, stand payments, the day's
transactions) update the context whatever the screen; everything else goes to the flow of the
screen shown. A Show command is emitted whenever what the display should show changed.
"""

from __future__ import annotations

from dataclasses import replace

from terminal.core.session import amount, manage, payment, pinlock
from terminal.core.session.commands import CancelCharge, Command, Feedback, Show
from terminal.core.session.events import (
    ChargeReady,
    ClockTrust,
    DayLoaded,
    DeviceTrouble,
    Event,
    StandPayments,
    SyncStatus,
    Tick,
)
from terminal.core.session.flow import Result
from terminal.core.session.model import (
    AmountEntry,
    Approved,
    Authorizing,
    Booting,
    Charge,
    CloseConfirm,
    Closing,
    Context,
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
    SessionConfig,
    State,
    Technician,
)
from terminal.core.session.pinlock import SavedPinLock

FLOWS = {
    Home: amount.on_home,
    AmountEntry: amount.on_amount,
    Items: amount.on_items,
    Charge: payment.on_charge,
    Authorizing: payment.on_authorizing,
    Recording: payment.on_recording,
    Approved: payment.on_approved,
    Refused: payment.on_refused,
    Notice: manage.on_notice,
    History: manage.on_history,
    PinEntry: manage.on_pin,
    RefundAmount: manage.on_refund_amount,
    Refunding: manage.on_refunding,
    RefundDone: manage.on_refund_done,
    CloseConfirm: manage.on_close_confirm,
    Closing: manage.on_closing,
    ReportView: manage.on_report,
    Technician: manage.on_technician,
}


def initial_state(
    config: SessionConfig, pin_lock: SavedPinLock | None = None, mono_ms: int = 0
) -> State:
    """Before the ledger has told the session what today holds: a boot screen. `pin_lock` is
    the PIN lock the app saved before it stopped; a lock it holds runs on from `mono_ms` (the
    monotonic clock now) for the time it had left."""
    ctx = Context(config, mono_ms=mono_ms)
    return State(Booting(), pinlock.restore(ctx, pin_lock) if pin_lock else ctx)


def step(state: State, event: Event) -> tuple[State, list[Command]]:
    before = state
    state, commands = _world(state, event)
    flow = FLOWS.get(type(state.screen))
    result: Result | None = flow(state, event) if flow else None
    if result is not None:
        state, more = result
        commands = commands + more
    if _visible(before) != _visible(state):
        commands.insert(0, Show(state.screen))
    return state, commands


def _visible(state: State) -> tuple:
    """What a frame depends on: the screen, the status bar, and the day's totals."""
    return state.screen, state.ctx.status, len(state.ctx.today)


def _world(state: State, event: Event) -> Result:
    ctx = state.ctx
    if isinstance(event, Tick):
        return replace(state, ctx=replace(ctx, now_ms=event.now_ms, mono_ms=event.mono_ms)), []
    if isinstance(event, DayLoaded):
        ctx = replace(ctx, today=tuple(event.entries), now_ms=event.now_ms)
        screen = Home() if isinstance(state.screen, Booting) else state.screen
        return State(screen, ctx), []
    if isinstance(event, SyncStatus):
        status = replace(
            ctx.status,
            online=event.online,
            queue_depth=event.queue_depth,
            oldest_ms=event.oldest_ms,
            parked=event.parked,
        )
        return replace(state, ctx=replace(ctx, status=status)), []
    if isinstance(event, ClockTrust):
        status = replace(ctx.status, clock_trusted=event.trusted)
        return replace(state, ctx=replace(ctx, status=status)), []
    if isinstance(event, DeviceTrouble):
        return _trouble(state, event)
    if isinstance(event, StandPayments):
        known = {e.txn_id for e in ctx.today}
        fresh = tuple(e for e in event.entries if e.txn_id not in known)
        return replace(state, ctx=replace(ctx, today=ctx.today + fresh)), []
    if isinstance(event, ChargeReady) and not _awaits_charge(state, event.request):
        # A QR made for a flow that has moved on (cancelled while it was being made): withdraw
        # it at the platform too, so nobody can pay a charge the terminal no longer shows.
        return state, [CancelCharge(event.charge_id)]
    return state, []


def _awaits_charge(state: State, request: int) -> bool:
    return isinstance(state.screen, Charge) and state.screen.request == request


def _trouble(state: State, event: DeviceTrouble) -> Result:
    status = state.ctx.status
    others = tuple(t for t in status.troubles if t[0] != event.device)
    troubles = (*others, (event.device, event.problem)) if event.problem else others
    commands: list[Command] = []
    if event.problem and (event.device, event.problem) not in status.troubles:
        commands.append(Feedback("alert"))
    status = replace(status, troubles=troubles)
    return replace(state, ctx=replace(state.ctx, status=status)), commands
