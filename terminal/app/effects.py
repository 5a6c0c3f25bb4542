"""Carries out the session's commands for the app: signs sale QRs, asks the platform, decides
offline, records in the ledger, prints, and answers each command with an event. The charge
(MPM) and customer-code (CPM) effects are mixed in from charges.py and codes.py.

Threads: the ledger and the offline decision run on the session thread (the caller of
`execute`); platform calls and printing run on the app's I/O threads, which only post events
back. A platform client belongs to one thread, so each I/O thread keeps its own.
"""

from __future__ import annotations

import logging
import threading
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from terminal.app.charges import ChargeEffects
from terminal.app.codes import CodeEffects
from terminal.app.support import (
    FEEDBACK,
    OpenCharge,
    RefundApproved,
    new_txn_id,
    platform_declined,
)
from terminal.config.merchant import rates_for
from terminal.core.benefits import Benefits, MonthToDate, sale_benefits
from terminal.core.session import commands as c
from terminal.core.session.events import (
    Committed,
    DayClosed,
    Declined,
    LedgerFailed,
    SelfTestDone,
)
from terminal.core.session.model import TxnEntry
from terminal.core.session.report import entry_from_record, since_last_close, z_report
from terminal.ledger.errors import LedgerError
from terminal.ledger.reader import find_record, read_since_last_close
from terminal.sync.errors import SyncError

log = logging.getLogger(__name__)


@dataclass
class Effects(ChargeEffects, CodeEffects):
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
        self._committed(command.request, recorded)

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
        refund_id = new_txn_id()
        try:
            decision = self._client().refund(refund_id, command.original.txn_id, command.amount_won)
        except SyncError as error:
            self.post(Declined(command.request, "platform", error.message_ko))
            return
        if not decision.approved:
            self.post(platform_declined(command.request, decision.reason, "환불이 거절되었습니다."))
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
        self._committed(command.request, recorded)

    def _committed(self, request: int, recorded) -> None:
        """The commit has returned: only now may the session show the sale or refund done;
        then the sync is woken to upload it."""
        self.post(Committed(request, entry_from_record(recorded.record)))
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
        return since_last_close(read_since_last_close(self.ledger.path))

    def _entry(self, txn_id: str) -> TxnEntry | None:
        """A journal record as an entry, through the read-only connection (any thread)."""
        record = find_record(self.ledger.path, txn_id)
        return entry_from_record(record) if record and record.kind != "close" else None

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
