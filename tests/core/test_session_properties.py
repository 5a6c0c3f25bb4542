"""Property tests of the session over random event sequences, with a world that answers its
commands late, wrongly, twice or never: approved is never shown without a committed record,
one code pays once, amounts stay within bounds, and every state has a way back to home."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from terminal.core.keys import Key, KeyEvent
from terminal.core.pin import hash_pin
from terminal.core.session import initial_state, step
from terminal.core.session.commands import (
    AuthorizeCode,
    CreateCharge,
    RecordClose,
    RecordRefund,
    RecordSale,
    Show,
    VerifyReceipt,
)
from terminal.core.session.events import (
    Authorized,
    ChargeFailed,
    ChargePaid,
    ChargeReady,
    ClockTrust,
    Committed,
    DayClosed,
    DayLoaded,
    Declined,
    DeviceTrouble,
    LedgerFailed,
    ReceiptAccepted,
    Scanned,
    SyncStatus,
    Tick,
)
from terminal.core.session.model import (
    AmountEntry,
    Approved,
    Booting,
    Charge,
    Closing,
    Home,
    Items,
    Preset,
    Recording,
    RefundAmount,
    Refunding,
    SessionConfig,
    State,
    TxnEntry,
)
from terminal.core.session.report import z_report
from terminal.core.tokens import customer_barcode

PIN = "1234"
CONFIG = SessionConfig(
    max_sale_won=300_000,
    presets=(Preset("떡볶이", 4_000), Preset("라면", 150_000)),
    discount_bp=300,
    manager_pin_hash=hash_pin(PIN, b"manager-salt-16b", ln=4, r=1).text(),  # cheap: many checks
    technician_pin_hash=hash_pin(PIN, b"technician-salt!", ln=4, r=1).text(),
    max_renewals=1,
)
T0 = 1_790_000_000_000
# A few customer codes, each in QR and barcode form (the same token id), held again and again.
TOKENS = (11, 12, 13)
CODES = tuple(f"EU1:TOKEN-{t}" for t in TOKENS) + tuple(customer_barcode(t) for t in TOKENS)
OTHER_SCANS = ("ER1:RECEIPT-1", "https://example.com/menu", CONFIG.receipt_prefix + "txn-1")


def tick(now_ms: int) -> Tick:
    """Wall and monotonic time move together here: no clock jumps (test_pin_lockout.py)."""
    return Tick(now_ms, now_ms)


def token_of(text: str) -> str:
    for token in TOKENS:
        if text in (f"EU1:TOKEN-{token}", customer_barcode(token)):
            return str(token)
    return ""


keys = st.sampled_from(list(Key)).map(lambda key: KeyEvent(key, 0.0))
pin_keys = st.just([KeyEvent(Key(d), 0.0) for d in PIN] + [KeyEvent(Key.ENTER, 0.0)])


class SessionMachine(RuleBasedStateMachine):
    """Random keys, scans, time and world answers; the invariants are checked after each."""

    def __init__(self):
        super().__init__()
        self.state = initial_state(CONFIG)
        self.now = T0
        self.pending: list = []  # commands the world has not answered yet
        self.recorded: set[int] = set()  # RecordSale/RecordRefund requests made
        self.committed: dict[int, TxnEntry] = {}
        self.approved_tokens: list[str] = []
        self.seq = 0
        self.send(DayLoaded((), self.now))

    def send(self, event) -> None:
        before = self.state
        self.state, commands = step(self.state, event)
        for command in commands:
            if isinstance(command, RecordSale | RecordRefund):
                self.recorded.add(command.request)
            if isinstance(command, CreateCharge | AuthorizeCode | VerifyReceipt):
                self.pending.append(command)
            if isinstance(command, RecordSale | RecordRefund | RecordClose):
                self.pending.append(command)
            entering = not isinstance(before.screen, Approved)
            if isinstance(command, Show) and isinstance(command.screen, Approved) and entering:
                # Approved only in the step that delivered the commit of a record it asked for.
                assert isinstance(event, Committed), event
                assert event.request in self.recorded
                assert command.screen.entry == event.entry
                assert isinstance(before.screen, Recording)
                self.approved_tokens.append(event.entry.token_id)
        if isinstance(event, Committed):
            self.committed[event.request] = event.entry
        self.check_bounds(self.state, commands)

    @staticmethod
    def check_bounds(state: State, commands) -> None:
        limit = CONFIG.max_sale_won
        screen = state.screen
        if isinstance(screen, AmountEntry):
            assert 0 <= screen.total_won <= limit
        if isinstance(screen, Items):
            assert 0 <= screen.entry.total_won <= limit
        if isinstance(screen, Charge):
            assert 0 < screen.amount_won <= screen.list_won <= limit
        if isinstance(screen, RefundAmount):
            assert 0 <= screen.typed_won <= screen.remaining_won <= screen.original.amount_won
        for command in commands:
            if isinstance(command, RecordSale | CreateCharge | AuthorizeCode):
                assert 0 < command.amount_won <= limit
            if isinstance(command, RecordRefund):
                assert 0 < command.amount_won <= command.original.amount_won

    # --- the shopkeeper and the customer ----------------------------------------------------

    @rule(event=keys)
    def press(self, event):
        self.send(event)

    @rule(amount=st.sampled_from(["5", "9", "00", "3"]))
    def type_an_amount(self, amount):
        for digit in amount + "0":
            self.send(KeyEvent(Key("00" if digit == "00" else digit), 0.0))
        self.send(KeyEvent(Key.ENTER, 0.0))

    @rule(events=pin_keys)
    def type_the_pin(self, events):
        for event in events:
            self.send(event)

    @rule(text=st.sampled_from(CODES + OTHER_SCANS), fmt=st.sampled_from(["QRCode", "Code128"]))
    def hold_a_code(self, text, fmt):
        self.send(Scanned(text, fmt))

    @rule(ms=st.sampled_from([100, 2_000, 9_000, 31_000, 301_000]))
    def time_passes(self, ms):
        self.now += ms
        self.send(tick(self.now))

    @rule(
        event=st.sampled_from(
            [
                SyncStatus(True, 0),
                SyncStatus(False, 4, T0, 1),
                ClockTrust(False),
                ClockTrust(True),
                DeviceTrouble("camera", "카메라 응답 없음"),
                DeviceTrouble("camera"),
            ]
        )
    )
    def the_world_changes(self, event):
        self.send(event)

    # --- the world's answers: right, wrong, late, twice or never ----------------------------

    @precondition(lambda self: self.pending)
    @rule(index=st.integers(0, 20), good=st.booleans(), keep=st.booleans())
    def answer(self, index, good, keep):
        command = self.pending[index % len(self.pending)]
        if not keep:  # else the same answer may come again later
            self.pending.remove(command)
        self.send(self.answer_to(command, good))

    @rule(request=st.integers(10_000, 10_050), amount=st.sampled_from([1_000, 5_000]))
    def stray_answers(self, request, amount):
        """Answers to requests the session never made (a confused or hostile world)."""
        entry = TxnEntry(f"stray-{request}", 999, "sale", "cpm", amount, self.now, token_id="11")
        for event in (
            Committed(request, entry),
            Authorized(request, "12", True),
            ChargePaid("C" * 20, amount),
        ):
            self.send(event)

    def answer_to(self, command, good: bool):
        r = getattr(command, "request", 0)
        if isinstance(command, CreateCharge):
            charge_id = f"{r:020d}"
            if good:
                return ChargeReady(r, charge_id, "PAYLOAD", self.now + 300_000)
            return ChargeFailed(r, "연결 안 됨")
        if isinstance(command, AuthorizeCode):
            token = token_of(command.text)
            if good and token:
                return Authorized(r, token, offline=not command.online)
            return Declined(r, "expired", "결제 코드의 유효시간(3분)이 지났습니다.")
        if isinstance(command, VerifyReceipt):
            return ReceiptAccepted(r, "ref") if good else Declined(r, "wrong_charge", "다른 결제")
        if isinstance(command, RecordClose):
            return DayClosed(r, z_report(())) if good else LedgerFailed(r, "저장 실패")
        if not good:
            return LedgerFailed(r, "저장 공간이 가득 찼습니다.")
        self.seq += 1
        if isinstance(command, RecordRefund):
            kind = "void" if command.void else "refund"
            entry = TxnEntry(
                f"txn-{self.seq}",
                self.seq,
                kind,
                command.original.method,
                command.amount_won,
                self.now,
                original_txn=command.original.txn_id,
            )
        else:
            entry = TxnEntry(
                f"txn-{self.seq}",
                self.seq,
                "sale",
                command.method,
                command.amount_won,
                self.now,
                command.offline,
                command.list_won,
                command.discount_won,
                token_id=command.token_id,
                charge_id=command.charge_id,
            )
        return Committed(r, entry)

    @rule(text=st.sampled_from(CODES), held=st.integers(1, 3))
    def a_whole_sale_with_a_code(self, text, held):
        """The common case, so that codes come back often: amount, QR, code held in view (the
        scan worker reports each new hold), every answer good."""
        self.type_an_amount("5")
        self.answer_all(CreateCharge)
        for _ in range(held):
            self.send(Scanned(text, "QRCode"))
            self.answer_all(AuthorizeCode)
            self.answer_all(RecordSale)
            self.send(KeyEvent(Key.ENTER, 0.0))

    def answer_all(self, kind) -> None:
        for command in [c for c in self.pending if isinstance(c, kind)]:
            self.pending.remove(command)
            self.send(self.answer_to(command, True))

    @rule()
    def the_customer_pays_the_qr(self):
        screen = self.state.screen
        if isinstance(screen, Charge) and screen.charge_id:
            self.send(ChargePaid(screen.charge_id, screen.amount_won))

    # --- invariants -------------------------------------------------------------------------

    @invariant()
    def one_code_pays_once(self):
        paid = [token for token in self.approved_tokens if token]
        assert len(paid) == len(set(paid)), paid

    @invariant()
    def there_is_a_way_home(self):
        assert reaches_home(self.state, self.now)


def reaches_home(state: State, now: int) -> bool:
    """Cancel, acknowledge, let time pass; a screen waiting on the ledger gets its answer."""
    for _ in range(12):
        if isinstance(state.screen, Home):
            return True
        screen = state.screen
        if isinstance(screen, Booting):
            event = DayLoaded((), now)
        elif isinstance(screen, Recording | Refunding | Closing):
            event = LedgerFailed(screen.request, "x")
        else:
            event = KeyEvent(Key.CANCEL, 0.0)
        state, _ = step(state, event)
        if not isinstance(state.screen, Home):
            now += 60_000
            state, _ = step(state, tick(now))
            state, _ = step(state, KeyEvent(Key.ENTER, 0.0))
    return isinstance(state.screen, Home)


TestSession = SessionMachine.TestCase
TestSession.settings = settings(max_examples=150, stateful_step_count=50)
