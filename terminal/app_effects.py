"""Carries out the session's commands for the app: signs sale QRs, asks the platform, decides
offline, records in the ledger, prints, and answers each command with an event.

Threads: the ledger and the offline decision run on the session thread (the caller of
`execute`); platform calls and printing run on the app's I/O threads, which only post events
back. A platform client belongs to one thread, so each I/O thread keeps its own.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from terminal.config.merchant import barcode_for, limits_for, rates_for, sale_for
from terminal.core.benefits import Benefits, MonthToDate, sale_benefits
from terminal.core.ids import uuid7
from terminal.core.offline import accept_offline_token
from terminal.core.receipt import ReceiptError, verify_receipt
from terminal.core.sale_qr import build_sale_qr
from terminal.core.session import commands as c
from terminal.core.session.events import (
    Authorized,
    ChargePaid,
    ChargeReady,
    Committed,
    DayClosed,
    Declined,
    LedgerFailed,
    ReceiptAccepted,
    SelfTestDone,
)
from terminal.core.session.model import TxnEntry
from terminal.core.session.report import entry_from_record, since_last_close, z_report
from terminal.core.tokens import scanned_token_id
from terminal.hw.feedback import Signal
from terminal.ledger.errors import LedgerError
from terminal.sync.errors import PlatformUnreachable, RetryLater, SyncError

log = logging.getLogger(__name__)

# The two letters the e음 platform writes in customer tokens and receipts (docs/codes.md).
PLATFORM_ISSUER = "IE"
RECEIPT_MESSAGES = {
    "wrong_charge": "다른 결제의 영수증입니다. 이 화면의 QR로 결제했는지 확인하세요.",
    "wrong_amount": "영수증 금액이 결제 금액과 다릅니다.",
    "wrong_sale": "다른 가게나 단말기의 QR로 결제한 영수증입니다.",
    "wrong_issuer": "인천e음 영수증이 아닙니다.",
    "bad_signature": "위조되었거나 손상된 영수증입니다.",
    "unknown_key": "확인할 수 없는 영수증입니다. 네트워크 연결 후 다시 시도하세요.",
}
PLATFORM_REASONS = {
    "token_used": "이미 사용된 결제 코드입니다. 새 코드를 요청하세요.",
    "expired": "결제 코드의 유효시간(3분)이 지났습니다. 새 코드를 요청하세요.",
    "unknown_token": "확인할 수 없는 결제 코드입니다.",
    "insufficient_funds": "잔액이 부족합니다. 고객에게 충전을 요청하세요.",
    "exceeds_remaining": "환불 가능 금액을 넘었습니다.",
}
# Seconds between asking again for an authorization whose answer was lost (bounded: the
# customer is waiting at the counter).
AUTHORIZE_RETRY_PAUSES = (0.3, 1.0, 0.0)
RESULT_UNKNOWN_KO = (
    "결제 결과를 확인하지 못했습니다. 고객 앱의 결제 내역을 확인하고, 결제되지 않았으면 "
    "새 코드로 다시 시도하세요."
)
KEY_WAIT_SECONDS = 3.0  # how long a code by an unknown key waits for the sync's key fetch
FEEDBACK = {"approved": Signal.SUCCESS, "refused": Signal.REFUSAL, "alert": Signal.REFUSAL}


@dataclass
class OpenCharge:
    payload: str
    amount_won: int
    registered: bool = False
    watching: bool = False


@dataclass
class Effects:
    """Everything the commands act on. `post` hands an event to the session's queue."""

    config: object
    ledger: object
    device_key: object
    clock: object  # .state() -> ClockState (the sync's TrustedClock)
    keys: object  # .platform_keys.check_tagged (the sync's KeyCache)
    post: object  # post(event) from any thread
    show: object  # show(screen) on the session thread: draws the frame
    feedback: object
    printer: object | None = None
    client_factory: object | None = None  # () -> PlatformClient, one per I/O thread
    wake_sync: object = lambda: None
    unknown_key: object = lambda kid: None  # sync.unknown_key: fetch keys early (rate-limited)
    self_test: object = lambda: ()
    io_threads: int = 4
    charges: dict[str, OpenCharge] = field(default_factory=dict)
    platform_benefits: dict[str, Benefits] = field(default_factory=dict)
    authorized_txn: dict[str, str] = field(default_factory=dict)  # token id → platform's txn id
    rechecked: set[int] = field(default_factory=set)  # requests checked again after new keys
    approvals: dict[str, str] = field(default_factory=dict)  # token id → approval number
    # Tokens whose online authorization got no answer: never accepted offline afterwards.
    doubtful_tokens: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.io = ThreadPoolExecutor(self.io_threads, thread_name_prefix="app-io")
        self.paper = ThreadPoolExecutor(1, thread_name_prefix="printer")
        self._local = threading.local()
        self._stopping = threading.Event()
        self.refunds: set[futures.Future] = set()  # refunds at the platform not yet answered
        self.rates = rates_for(self.config)

    def close(self, refund_wait: float = 15.0) -> None:
        """Stops taking I/O work. A refund in flight at the platform is waited for (bounded by
        the request timeouts): its answer must still reach the ledger. Other calls are left
        to finish by their own timeouts."""
        self._stopping.set()
        futures.wait(list(self.refunds), timeout=refund_wait)
        self.io.shutdown(wait=False, cancel_futures=True)
        self.paper.shutdown(wait=False, cancel_futures=True)

    # --- dispatch --------------------------------------------------------------------------

    def execute(self, command) -> None:
        handler = getattr(self, "_" + type(command).__name__, None)
        if handler is None:
            raise TypeError(f"no effect for {command!r}")
        handler(command)

    def _Show(self, command: c.Show) -> None:
        self.show(command.screen)

    def _Feedback(self, command: c.Feedback) -> None:
        self.feedback.play(FEEDBACK[command.pattern])

    def _SyncNow(self, command: c.SyncNow) -> None:
        self.wake_sync()

    def _SelfTest(self, command: c.SelfTest) -> None:
        self._background(lambda: self.post(SelfTestDone(tuple(self.self_test()))))

    # --- the charge (MPM) ------------------------------------------------------------------

    def _CreateCharge(self, command: c.CreateCharge) -> None:
        now = time.time()
        sale = sale_for(self.config, command.amount_won, self.device_key.kid, now, os.urandom(8))
        payload = build_sale_qr(sale, self.device_key.sign)
        self.charges[sale.charge_id] = OpenCharge(payload, command.amount_won)
        expires_ms = sale.expires_at * 1000
        # Shown at once: the QR works offline too (the customer's receipt proves payment).
        self.post(ChargeReady(command.request, sale.charge_id, payload, expires_ms))
        if self.client_factory is not None:
            self._background(lambda: self._register(sale.charge_id, expires_ms))

    def _register(self, charge_id: str, expires_ms: int) -> None:
        charge = self.charges.get(charge_id)
        if charge is None:
            return
        try:
            self._client().register_charge(charge_id, charge.amount_won, expires_ms, charge.payload)
        except SyncError as error:
            log.info("charge %s not registered (%s): offline receipts only", charge_id, error)
            return
        charge.registered = True
        self._watch(charge_id)

    def _watch(self, charge_id: str) -> None:
        """Long-polls the charge until it is paid or no longer shown."""
        wait = min(self.config.sync.long_poll_seconds, 25)
        while charge_id in self.charges and not self._stopping.is_set():
            try:
                status = self._client().charge_status(charge_id, wait)
            except SyncError:
                if self._stopping.wait(1.0):
                    return
                continue
            if status.status == "paid":
                problem = self._paid_receipt_problem(charge_id, status)
                if problem:
                    # "Paid" must come with the platform's signed receipt for this very sale;
                    # without it nothing is recorded: the customer's app can still show the
                    # receipt to the camera.
                    log.error("charge %s: paid without a valid receipt (%s)", charge_id, problem)
                    return
                if status.benefits:  # the platform's, with the customer's monthly caps applied
                    self.platform_benefits[charge_id] = _benefits(status.benefits)
                self.post(ChargePaid(charge_id, status.amount, status.receipt or ""))
                return
            if status.status != "pending":
                return

    def _paid_receipt_problem(self, charge_id: str, status) -> str:
        """Why a "paid" answer cannot be believed ("" when it can): its receipt must verify
        with a platform key and name this charge, its amount and this sale's QR. A key we do not
        know yet is fetched (rate-limited in sync) and the receipt checked once more."""
        charge = self.charges.get(charge_id)
        if charge is None:
            return "the charge is no longer shown"
        for attempt in range(2):
            generation = getattr(self.keys, "generation", None)
            try:
                verify_receipt(
                    status.receipt or "",
                    self.keys.platform_keys.check_tagged,
                    sale_payload=charge.payload,
                    charge_id=charge_id,
                    amount_won=charge.amount_won,
                    expected_issuer=PLATFORM_ISSUER,
                )
                return ""
            except ReceiptError as error:
                fetch = error.reason == "unknown_key" and attempt == 0 and generation is not None
                if not (fetch and self.unknown_key(sealed_key_name(status.receipt or ""))):
                    return error.reason
                if not self.keys.wait_newer(generation, KEY_WAIT_SECONDS):
                    return error.reason
        return "unknown_key"

    def _CancelCharge(self, command: c.CancelCharge) -> None:
        charge = self.charges.pop(command.charge_id, None)
        if charge is not None and charge.registered and self.client_factory is not None:
            self._background(lambda: self._cancel(command.charge_id))

    def _cancel(self, charge_id: str) -> None:
        try:
            self._client().cancel_charge(charge_id)
        except SyncError as error:
            log.info("charge %s not cancelled at the platform: %s", charge_id, error)

    def _VerifyReceipt(self, command: c.VerifyReceipt) -> None:
        charge = self.charges.get(command.charge_id)
        if charge is None:
            self.post(Declined(command.request, "wrong_charge", RECEIPT_MESSAGES["wrong_charge"]))
            return
        try:
            receipt = verify_receipt(
                command.text,
                self.keys.platform_keys.check_tagged,
                sale_payload=charge.payload,
                charge_id=command.charge_id,
                amount_won=command.amount_won,
                expected_issuer=PLATFORM_ISSUER,
            )
        except ReceiptError as error:
            message = RECEIPT_MESSAGES.get(error.reason, "영수증을 확인할 수 없습니다.")
            refuse = partial(self.post, Declined(command.request, error.reason, message))
            if error.reason == "unknown_key":
                self._after_fresh_keys(command, lambda: self._VerifyReceipt(command), refuse)
            else:
                refuse()
            return
        self.post(ReceiptAccepted(command.request, receipt.payment_ref.hex()))

    # --- the customer's code (CPM) ---------------------------------------------------------

    def _AuthorizeCode(self, command: c.AuthorizeCode) -> None:
        if command.online and self.client_factory is not None:
            self._background(lambda: self._authorize_online(command))
        else:
            self.decide_offline(command)

    def _authorize_online(self, command: c.AuthorizeCode) -> None:
        txn_id = str(uuid7(time.time_ns() // 1_000_000, os.urandom(10)))
        barcode = command.text.isdigit()
        scanned = scanned_token_id(command.text, barcode_for(self.config))
        try:
            decision = self._authorize_surely(txn_id, command, barcode)
        except PlatformUnreachable as error:
            if error.no_connection:
                # Nothing reached the platform: the offline rules decide, on the session thread.
                self.post(OfflineDecision(command))
                return
            self._in_doubt(command, scanned)
            return
        except RetryLater:
            self._in_doubt(command, scanned)
            return
        except SyncError as error:
            self.post(Declined(command.request, "platform", error.message_ko))
            return
        if not decision.approved:
            reason = decision.reason or "declined"
            message = PLATFORM_REASONS.get(reason, "결제가 거절되었습니다.")
            self.post(Declined(command.request, reason, message))
            return
        # The seen set must hold this token whatever the answer said about it.
        token_id = decision.token_id or scanned or ""
        if decision.benefits:
            self.platform_benefits[token_id] = _benefits(decision.benefits)
        # The record takes the authorization's id: the platform knows the payment by it, so a
        # refund of this sale finds the customer's money.
        self.authorized_txn[token_id] = txn_id
        if decision.approval_number:
            self.approvals[token_id] = decision.approval_number
        self.post(Authorized(command.request, token_id, offline=False))

    def _authorize_surely(self, txn_id: str, command: c.AuthorizeCode, barcode: bool):
        """The authorization, asked again under the same transaction id while the answer is in
        doubt (the request may have reached the platform): the platform answers a repeated id
        with its first answer, so the customer is never charged twice."""
        for attempt, pause in enumerate(AUTHORIZE_RETRY_PAUSES):
            try:
                return self._client().authorize(
                    txn_id, command.text, command.amount_won, barcode=barcode
                )
            except PlatformUnreachable as error:
                if error.no_connection and attempt == 0:
                    raise  # certainly not delivered: no need to ask again
                last = error
            except RetryLater as error:
                last = error
            if self._stopping.wait(pause):
                break
        raise last

    def _in_doubt(self, command: c.AuthorizeCode, scanned: str | None) -> None:
        """The platform may have charged the customer but did not say so. Never accept this
        code offline afterwards (that could charge twice); the shopkeeper asks the customer."""
        if scanned:
            self.doubtful_tokens.add(scanned)
        self.post(Declined(command.request, "result_unknown", RESULT_UNKNOWN_KO))

    def decide_offline(self, command: c.AuthorizeCode) -> None:
        """The offline rules, on the session thread (they read the ledger)."""
        token, refused = accept_offline_token(
            command.text,
            command.amount_won,
            check=self.keys.platform_keys.check_tagged,
            expected_issuer=PLATFORM_ISSUER,
            already_seen=lambda token_id: (
                token_id in self.doubtful_tokens or self.ledger.seen(token_id)
            ),
            limits=limits_for(self.config),
            unsynced=self.ledger.unsynced(),
            clock=self.clock.state(),
            barcode=barcode_for(self.config),
        )
        if refused is not None:
            refuse = partial(self.post, Declined(command.request, refused.code, refused.message_ko))
            if refused.code == "unknown_key":
                self._after_fresh_keys(command, lambda: self.decide_offline(command), refuse)
            else:
                refuse()
            return
        self.post(Authorized(command.request, str(token.token_id), offline=True))

    def _after_fresh_keys(self, command, check_again, refuse) -> None:
        """A code or receipt signed by a platform key we lack (the platform may have rotated
        its keys). The sync is asked for the keys (rate-limited there); when a fetch is coming
        now, an I/O thread waits for it (bounded) and the code is checked once more on the
        session thread; only then, or at once when no fetch is coming, is the refusal final."""
        generation = getattr(self.keys, "generation", None)
        first_time = command.request not in self.rechecked
        coming = self.unknown_key(sealed_key_name(command.text))
        if not (first_time and coming and generation is not None):
            refuse()
            return
        self.rechecked.add(command.request)

        def wait() -> None:
            if self.keys.wait_newer(generation, KEY_WAIT_SECONDS):
                self.post(OnSessionThread(check_again))
            else:
                refuse()

        if self._background(wait) is None:
            refuse()

    # --- the ledger ------------------------------------------------------------------------

    def _RecordSale(self, command: c.RecordSale) -> None:
        self.charges.pop(command.charge_id, None)
        # The platform's figures when it decided (online); else the rates, without the
        # customer's month-to-date (unknown offline: the platform settles caps on upload).
        known = self.platform_benefits.pop(command.token_id or command.charge_id, None)
        txn_id = self.authorized_txn.pop(command.token_id, None) if command.token_id else None
        approval = self.approvals.pop(command.token_id, None) if command.token_id else None
        benefits = known or sale_benefits(command.amount_won, self.rates, MonthToDate())
        try:
            recorded = self.ledger.record_sale(
                amount_won=command.amount_won,
                method=command.method,
                benefits=benefits,
                clock=self.clock.state(),
                offline=command.offline,
                charge_id=command.charge_id or None,
                token_id=command.token_id or None,
                list_won=command.list_won,
                discount_won=command.discount_won,
                txn_id=None if command.offline else txn_id,
                approval=None if command.offline else approval,
            )
        except LedgerError as error:
            self.post(LedgerFailed(command.request, error.message_ko))
            return
        # The commit has returned: only now may the session show the sale approved.
        self.post(Committed(command.request, entry_from_record(recorded.record)))
        self.wake_sync()

    def _RecordRefund(self, command: c.RecordRefund) -> None:
        if self.client_factory is None:
            self.post(
                Declined(command.request, "offline", "환불은 플랫폼에 연결된 상태에서만 됩니다.")
            )
            return
        future = self._background(lambda: self._refund_online(command))
        if future is not None:
            self.refunds.add(future)
            future.add_done_callback(self.refunds.discard)

    def _refund_online(self, command: c.RecordRefund) -> None:
        refund_id = str(uuid7(time.time_ns() // 1_000_000, os.urandom(10)))
        try:
            decision = self._client().refund(refund_id, command.original.txn_id, command.amount_won)
        except SyncError as error:
            self.post(Declined(command.request, "platform", error.message_ko))
            return
        if not decision.approved:
            reason = decision.reason or "declined"
            message = PLATFORM_REASONS.get(reason, "환불이 거절되었습니다.")
            self.post(Declined(command.request, reason, message))
            return
        self.post(RefundApproved(command, decision.approval_number or ""))

    def record_refund(self, command: c.RecordRefund, approval: str = "") -> None:
        """After the platform approved it: the ledger, on the session thread."""
        try:
            recorded = self.ledger.record_refund(
                original_txn=command.original.txn_id,
                amount_won=command.amount_won,
                clock=self.clock.state(),
                void=command.void,
                approval=approval or None,
            )
        except LedgerError as error:
            self.post(LedgerFailed(command.request, error.message_ko))
            return
        self.post(Committed(command.request, entry_from_record(recorded.record)))
        self.wake_sync()

    def _RecordClose(self, command: c.RecordClose) -> None:
        try:
            report = self.close_day()
        except LedgerError as error:
            self.post(LedgerFailed(command.request, error.message_ko))
            return
        self.post(DayClosed(command.request, report))

    def close_day(self):
        """Signs the close record; its Z report covers what came after the previous close."""
        entries = self.today()
        recorded = self.ledger.record_close(clock=self.clock.state())
        self.wake_sync()
        return z_report(entries, close_seq=recorded.record.seq)

    def today(self) -> tuple[TxnEntry, ...]:
        return since_last_close(journal_records(self.ledger.path))

    def _entry(self, txn_id: str) -> TxnEntry | None:
        """A journal record as an entry, through the read-only connection (any thread)."""
        for record in journal_records(self.ledger.path):
            if record.txn_id == txn_id and record.kind != "close":
                return entry_from_record(record)
        return None

    # --- paper -----------------------------------------------------------------------------

    def _PrintReceipt(self, command: c.PrintReceipt) -> None:
        if self.printer is not None:
            self.paper.submit(self._print, lambda: self.slip_image(command))

    def _PrintReport(self, command: c.PrintReport) -> None:
        if self.printer is not None:
            from terminal.ui.report_image import draw_report

            width, font = self.printer.paper_width, self.config.display.font
            self.paper.submit(
                self._print, lambda: draw_report(command.report, self.config, width, font)
            )

    def _print(self, make) -> None:
        from terminal.core.session.events import DeviceTrouble

        try:
            self.printer.print_image(make())
        except Exception as error:  # a printer fails in many library-specific ways
            log.warning("printing failed: %s", error)
            self.post(DeviceTrouble("printer", str(error)[:60]))
            return
        self.post(DeviceTrouble("printer"))  # it prints again: the alert goes

    def slip_image(self, command: c.PrintReceipt):
        from terminal.ui.slips import slip_for

        entry = command.entry
        at = datetime.fromtimestamp(entry.time_ms / 1000, ZoneInfo(self.config.locale.timezone))
        original = self._entry(entry.original_txn) if entry.original_txn else None
        slip = slip_for(self.config, entry, at, copy=command.copy, original=original)
        from terminal.ui.receipt_image import draw_slip

        return draw_slip(slip, self.printer.paper_width, self.config.display.font)

    # --- threads ---------------------------------------------------------------------------

    def _client(self):
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self.client_factory()
        return client

    def _background(self, work) -> futures.Future | None:
        if self._stopping.is_set():
            return None

        def run() -> None:
            try:
                work()
            except Exception:  # an I/O thread must not die silently with a flow waiting
                log.exception("background work failed")

        return self.io.submit(run)


def _benefits(figures) -> Benefits:
    return Benefits(
        figures.get("city_won", 0), figures.get("district_won", 0), figures.get("merchant_won", 0)
    )


def sealed_key_name(text: str) -> str:
    """What names the signing key of a customer token or receipt ("EU1:…", "ER1:…"): the codes
    carry a 4-byte key tag, not the kid, so the sync is told "tag:<hex>" (never a known kid)."""
    from terminal.core.base45 import Base45Error, b45decode

    try:
        raw = b45decode(text.partition(":")[2])
    except Base45Error:
        return "tag:?"
    return "tag:" + raw[1:5].hex()


def journal_records(database) -> list:
    """Every record of the journal, oldest first, through the ledger's read-only connection
    (WAL: safe beside the running ledger). Whole journal: a day close keeps the tail short to
    walk, and the app reads it once at start and at each close."""
    from terminal.ledger.export import journal_rows, open_read_only, payload_record

    connection = open_read_only(database)
    try:
        return [payload_record(jws) for _, jws, _ in journal_rows(connection)]
    finally:
        connection.close()


@dataclass(frozen=True)
class OfflineDecision:
    """App-internal: the platform could not be reached; decide by the offline rules."""

    command: c.AuthorizeCode


@dataclass(frozen=True)
class OnSessionThread:
    """App-internal: work that reads or writes the ledger, to run on the session thread."""

    work: object


@dataclass(frozen=True)
class RefundApproved:
    """App-internal: the platform approved the refund; record it on the session thread."""

    command: c.RecordRefund
    approval: str = ""  # the platform's approval number for the refund
