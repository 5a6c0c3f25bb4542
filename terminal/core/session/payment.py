"""Taking the payment: the charge screen (MPM QR shown while the camera watches for a customer
code), authorization, the ledger's commit, and the approved or refused screen.

A sale is shown approved only when the ledger's Committed answer for its RecordSale arrives.
"""

from __future__ import annotations

from dataclasses import replace

from terminal.core.keys import Key, KeyEvent
from terminal.core.offline import refusal
from terminal.core.session.amount import on_amount, start_charge
from terminal.core.session.commands import (
    AuthorizeCode,
    CancelCharge,
    CreateCharge,
    Feedback,
    PrintReceipt,
    RecordSale,
    VerifyReceipt,
)
from terminal.core.session.events import (
    Authorized,
    ChargeFailed,
    ChargePaid,
    ChargeReady,
    Committed,
    Declined,
    Event,
    LedgerFailed,
    ReceiptAccepted,
    Scanned,
    Tick,
)
from terminal.core.session.flow import Result, go, remember_paid, take_request
from terminal.core.session.model import (
    AmountEntry,
    Approved,
    Authorizing,
    Charge,
    Home,
    Notice,
    Recording,
    Refused,
    State,
)
from terminal.core.tokens import (
    DEFAULT_BARCODE,
    TOKEN_PREFIX,
    BarcodeFormat,
    TokenError,
    parse_customer_barcode,
)

RECEIPT_PREFIX = "ER1:"


def code_kind(text: str) -> str:
    """ "code" (a customer's token QR or payment barcode), "receipt", or "other"."""
    if text.startswith(TOKEN_PREFIX) or (text.isascii() and text.isdigit() and len(text) >= 16):
        return "code"
    return "receipt" if text.startswith(RECEIPT_PREFIX) else "other"


def barcode_token_id(text: str, barcode: BarcodeFormat = DEFAULT_BARCODE) -> str:
    """The token id a numeric code of the issuer's format names, so a barcode and its QR
    count as one code."""
    try:
        return str(parse_customer_barcode(text, barcode))
    except TokenError:
        return ""


def on_charge(state: State, event: Event) -> Result | None:
    charge: Charge = state.screen
    ctx = state.ctx
    if isinstance(event, ChargeReady) and event.request == charge.request:
        ready = replace(
            charge, charge_id=event.charge_id, payload=event.payload, expires_ms=event.expires_ms
        )
        return go(state, ready)
    if isinstance(event, ChargeFailed) and event.request == charge.request:
        # The camera still takes customer codes; the shopkeeper sees why there is no QR.
        return go(state, replace(charge, note=event.message_ko, asked_ms=0))
    if isinstance(event, KeyEvent) and event.key is Key.CANCEL:
        cancel = [CancelCharge(charge.charge_id)] if charge.charge_id else []
        return go(state, Home(note="결제를 취소했습니다"), *cancel)
    if isinstance(event, ChargePaid) and charge.charge_id == event.charge_id:
        if event.amount_won != charge.amount_won:
            return go(state, replace(charge, note="결제 금액이 다릅니다. 확인하세요"))
        ctx, request = take_request(ctx)
        record = _sale_record(request, charge, "mpm", False, charge_id=charge.charge_id)
        return go(state, Recording(charge, request, "mpm", False), record, ctx=ctx)
    if isinstance(event, Scanned):
        return scanned_in_charge(state, charge, event)
    if isinstance(event, Tick):
        return charge_tick(state, charge)
    return None


def scanned_in_charge(state: State, charge: Charge, event: Scanned) -> Result | None:
    ctx, kind = state.ctx, code_kind(event.text)
    if kind == "other":
        return go(state, replace(charge, note="결제 코드가 아닙니다"))
    if kind == "receipt":
        if not charge.charge_id:
            return None  # no QR shown yet, so no receipt can be for it
        ctx, request = take_request(ctx)
        verify = VerifyReceipt(request, event.text, charge.charge_id, charge.amount_won)
        screen = Authorizing(charge, request, "receipt", event.text, ctx.now_ms)
        return go(state, screen, verify, ctx=ctx)
    token_id = barcode_token_id(event.text, ctx.config.barcode)
    if event.text in ctx.paid_codes or token_id in ctx.paid_codes:
        replayed = refusal("replayed")
        return refuse(state, charge, replayed.code, replayed.message_ko)
    ctx, request = take_request(ctx)
    authorize = AuthorizeCode(
        request, event.text, event.format, charge.amount_won, ctx.status.online
    )
    # The QR is withdrawn first: the customer cannot also pay it while the code is checked.
    cancel = [CancelCharge(charge.charge_id)] if charge.charge_id else []
    withdrawn = replace(charge, charge_id="", payload="", note="")
    screen = Authorizing(withdrawn, request, "code", event.text, ctx.now_ms)
    return go(state, screen, *cancel, authorize, ctx=ctx)


def charge_tick(state: State, charge: Charge) -> Result | None:
    now, config = state.ctx.now_ms, state.ctx.config
    if not charge.charge_id:
        if charge.asked_ms and now - charge.asked_ms > config.answer_timeout_ms:
            note = "QR을 만들지 못했습니다. 고객 결제 코드는 받을 수 있습니다"
            return go(state, replace(charge, note=note, asked_ms=0))
        return None
    if now < charge.expires_ms:
        return None
    cancel = CancelCharge(charge.charge_id)
    if charge.renewals >= config.max_renewals:
        lines = ("결제가 이루어지지 않았습니다.", "금액을 다시 입력하세요.")
        return go(state, Notice("QR 유효시간이 지났습니다", lines), cancel)
    ctx, request = take_request(state.ctx)
    renewed = Charge(
        charge.list_won,
        charge.discount_won,
        charge.amount_won,
        request,
        asked_ms=now,
        renewals=charge.renewals + 1,
        note="QR 유효시간이 지나 새로 만들었습니다",
    )
    create = CreateCharge(request, charge.amount_won, charge.list_won, charge.discount_won)
    return go(state, renewed, cancel, create, ctx=ctx)


def refuse(state: State, charge: Charge, code: str, message_ko: str) -> Result:
    until = state.ctx.now_ms + state.ctx.config.refused_ms
    return go(state, Refused(charge, code, message_ko, until), Feedback("refused"))


def on_authorizing(state: State, event: Event) -> Result | None:
    screen: Authorizing = state.screen
    charge = screen.charge
    if isinstance(event, Authorized) and event.request == screen.request:
        if event.token_id in state.ctx.paid_codes:  # the same token paid before, in its other form
            replayed = refusal("replayed")
            return refuse(state, charge, replayed.code, replayed.message_ko)
        ctx, request = take_request(state.ctx)
        record = _sale_record(request, charge, "cpm", event.offline, token_id=event.token_id)
        recording = Recording(charge, request, "cpm", event.offline, screen.text, event.token_id)
        return go(state, recording, record, ctx=ctx)
    if isinstance(event, ReceiptAccepted) and event.request == screen.request:
        ctx, request = take_request(state.ctx)
        record = _sale_record(request, charge, "mpm", True, charge_id=charge.charge_id)
        return go(state, Recording(charge, request, "mpm", True, screen.text), record, ctx=ctx)
    if isinstance(event, Declined) and event.request == screen.request:
        return refuse(state, charge, event.code, event.message_ko)
    if (
        isinstance(event, Tick)
        and event.now_ms - screen.asked_ms > state.ctx.config.answer_timeout_ms
    ):
        return refuse(state, charge, "timeout", "응답이 없습니다. 다시 시도하세요.")
    return None


def on_recording(state: State, event: Event) -> Result | None:
    screen: Recording = state.screen
    if isinstance(event, Committed) and event.request == screen.request:
        entry, config = event.entry, state.ctx.config
        ctx = remember_paid(state.ctx, screen.code_text, screen.token_id)
        ctx = replace(ctx, today=(*ctx.today, entry))
        approved = Approved(
            entry, config.receipt_prefix + entry.txn_id, ctx.now_ms + config.approved_ms
        )
        commands = [Feedback("approved")]
        if config.auto_print:
            approved = replace(approved, printed=True)
            commands.append(PrintReceipt(entry))
        return go(state, approved, *commands, ctx=ctx)
    if isinstance(event, LedgerFailed) and event.request == screen.request:
        lines = ("결제가 저장되지 않았습니다.", event.message_ko)
        return go(state, Notice("저장 실패", lines, "error"), Feedback("refused"))
    return None


def on_approved(state: State, event: Event) -> Result | None:
    screen: Approved = state.screen
    if isinstance(event, Tick) and event.now_ms >= screen.until_ms:
        return go(state, Home())
    if not isinstance(event, KeyEvent):
        return None
    if event.key is Key.F1:
        printed = replace(screen, printed=True)
        return go(state, printed, PrintReceipt(screen.entry, copy=screen.printed))
    if event.key.digit is not None:  # the next sale starts at once
        return on_amount(state, event, AmountEntry())
    if event.key in (Key.ENTER, Key.CANCEL):
        return go(state, Home())
    return None


def on_refused(state: State, event: Event) -> Result | None:
    screen: Refused = state.screen
    charge = screen.charge
    back = (isinstance(event, Tick) and event.now_ms >= screen.until_ms) or (
        isinstance(event, KeyEvent) and event.key is Key.ENTER
    )
    if back:
        if charge.charge_id:
            return go(state, replace(charge, note=""))
        # The QR was withdrawn for a refused customer code: a fresh one for the same sale.
        return start_charge(state, charge.list_won)
    if isinstance(event, KeyEvent) and event.key is Key.CANCEL:
        cancel = [CancelCharge(charge.charge_id)] if charge.charge_id else []
        return go(state, Home(note="결제를 취소했습니다"), *cancel)
    return None


def _sale_record(request: int, charge: Charge, method: str, offline: bool, **refs) -> RecordSale:
    """The ledger command for a sale of this charge: its amounts as priced, how it was paid."""
    return RecordSale(
        request, method, charge.amount_won, charge.list_won, charge.discount_won, offline, **refs
    )
