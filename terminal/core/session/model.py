"""The session's values: its configuration, today's transactions, the status bar, every screen,
and the state that `step` maps to a new state. All frozen; nothing here does I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from terminal.core.benefits import BenefitRates, Price, price_sale
from terminal.core.money import MAX_AMOUNT_WON
from terminal.core.tokens import DEFAULT_BARCODE, BarcodeFormat


@dataclass(frozen=True)
class Preset:
    """A preset item key from the merchant profile, e.g. 떡볶이 4,000원."""

    label: str
    amount_won: int


@dataclass(frozen=True)
class SessionConfig:
    """What the session needs to know of the configuration (the app builds it)."""

    brand: str = "인천e음"
    merchant_name: str = ""
    device_id: str = ""
    version: str = ""
    max_sale_won: int = 2_000_000  # the issuer's per-sale maximum
    presets: tuple[Preset, ...] = ()
    discount_bp: int = 0  # 선할인: an up-front discount at payment, basis points
    # The merchant's rates from the configuration (terminal/config/merchant.py rates_for): the
    # session prices a sale with them through price_sale, the one rule used everywhere. None:
    # no rates but the 선할인 above (tests, screens).
    rates: BenefitRates | None = None
    barcode: BarcodeFormat = DEFAULT_BARCODE  # the issuer's numeric payment code format
    # The PINs' stored scrypt hashes (terminal/core/pin.py); empty keeps refunds and the day
    # close, or the technician menu, locked.
    manager_pin_hash: str = ""
    technician_pin_hash: str = ""
    receipt_prefix: str = "https://r.eeum.kr/r/"  # + txn id: the digital receipt QR
    auto_print: bool = False
    approved_ms: int = 6_000  # the approved screen returns home after this long
    refused_ms: int = 8_000
    answer_timeout_ms: int = 30_000  # an authorization or charge that gets no answer
    max_renewals: int = 3  # an expired sale QR is renewed this often, then the shopkeeper is told
    max_pin_tries: int = 3  # wrong PINs in a row before PIN entry locks
    pin_lockout_ms: int = 30_000  # the first lock; each further lock in a row doubles it
    pin_lockout_max_ms: int = 15 * 60_000
    paid_codes_kept: int = 64

    def __post_init__(self) -> None:
        if self.rates is not None and self.rates.merchant_discount_bp != self.discount_bp:
            raise ValueError(
                f"discount_bp {self.discount_bp} is not the rates' 선할인 "
                f"{self.rates.merchant_discount_bp}: give one from the other"
            )

    def price(self, list_won: int) -> Price:
        """What the customer is charged for `list_won` (list, 선할인), by price_sale."""
        rates = self.rates or BenefitRates(0, 0, 0, 0, 0, merchant_discount_bp=self.discount_bp)
        return price_sale(list_won, rates)


@dataclass(frozen=True)
class TxnEntry:
    """One of today's transactions as the shopkeeper sees it (sale, refund, void; or a payment
    to the printed stand that sync reported)."""

    txn_id: str
    seq: int
    kind: str  # "sale", "refund", "void", "stand"
    method: str  # "mpm", "cpm"
    amount_won: int  # what the customer paid (a refund: what went back), positive
    time_ms: int
    offline: bool = False
    list_won: int = 0  # before 선할인; 0 means the same as amount_won
    discount_won: int = 0
    city_won: int = 0  # cashback by layer; negative in a refund
    district_won: int = 0
    merchant_won: int = 0
    original_txn: str = ""
    token_id: str = ""
    charge_id: str = ""
    approval: str = ""  # the platform's approval number ("" offline until it is synced)

    @property
    def cashback_won(self) -> int:
        return self.city_won + self.district_won + self.merchant_won

    @property
    def gross_won(self) -> int:
        return self.list_won or self.amount_won

    @property
    def is_payment(self) -> bool:
        return self.kind in ("sale", "stand")


@dataclass(frozen=True)
class ZReport:
    """Totals of a day (since the previous close). Every figure is whole won."""

    sales_count: int = 0
    sales_won: int = 0
    mpm_count: int = 0
    mpm_won: int = 0
    cpm_count: int = 0
    cpm_won: int = 0
    stand_count: int = 0
    stand_won: int = 0
    offline_count: int = 0
    refund_count: int = 0
    refund_won: int = 0
    discount_won: int = 0
    cashback_won: int = 0
    net_won: int = 0
    supply_won: int = 0
    vat_won: int = 0
    close_seq: int = 0  # the close record's seq once signed, else 0


@dataclass(frozen=True)
class Status:
    """The status bar: never blocks a sale, always visible."""

    online: bool = False
    queue_depth: int = 0
    oldest_ms: int | None = None
    parked: int = 0
    clock_trusted: bool = False
    troubles: tuple[tuple[str, str], ...] = ()  # (device, problem)


# --- screens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Booting:
    pass


@dataclass(frozen=True)
class Home:
    note: str = ""


@dataclass(frozen=True)
class AmountEntry:
    digits: str = ""  # what is being typed now
    lines: tuple[Preset, ...] = ()  # amounts added with "+" or preset keys
    note: str = ""

    @property
    def typed_won(self) -> int:
        return int(self.digits) if self.digits else 0

    @property
    def total_won(self) -> int:
        return sum(line.amount_won for line in self.lines) + self.typed_won


@dataclass(frozen=True)
class Items:
    """The preset list; the shopkeeper types an item number and Enter."""

    entry: AmountEntry
    typed: str = ""


@dataclass(frozen=True)
class Charge:
    """The sale QR is shown and the camera watches for the customer's code at the same time."""

    list_won: int
    discount_won: int
    amount_won: int
    request: int  # the CreateCharge this charge answers
    charge_id: str = ""  # empty while the QR is being made
    payload: str = ""
    expires_ms: int = 0
    asked_ms: int = 0
    renewals: int = 0
    note: str = ""


@dataclass(frozen=True)
class Authorizing:
    """A customer code or receipt is being checked; scans are ignored until the answer."""

    charge: Charge
    request: int
    kind: str  # "code" or "receipt"
    text: str
    asked_ms: int


@dataclass(frozen=True)
class Recording:
    """The ledger is committing the sale. Only its answer leaves this screen."""

    charge: Charge
    request: int
    method: str
    offline: bool
    code_text: str = ""
    token_id: str = ""


@dataclass(frozen=True)
class Approved:
    entry: TxnEntry
    receipt_text: str
    until_ms: int
    printed: bool = False


@dataclass(frozen=True)
class Refused:
    """A customer code or receipt was refused; the charge is still open unless it expired."""

    charge: Charge
    code: str
    message_ko: str
    until_ms: int


@dataclass(frozen=True)
class Notice:
    """A message that needs acknowledging (charge could not be made, QR expired, ledger error)."""

    title: str
    lines: tuple[str, ...]
    tone: str = "info"  # "info", "error"


@dataclass(frozen=True)
class History:
    cursor: int = 0  # index into today's entries, newest first
    note: str = ""


@dataclass(frozen=True)
class PinEntry:
    purpose: str  # "refund", "close", "tech"
    typed: str = ""
    txn_id: str = ""  # the sale to refund, for purpose "refund"


@dataclass(frozen=True)
class RefundAmount:
    original: TxnEntry
    remaining_won: int
    digits: str = ""
    note: str = ""

    @property
    def typed_won(self) -> int:
        return int(self.digits) if self.digits else 0


@dataclass(frozen=True)
class Refunding:
    original: TxnEntry
    amount_won: int
    request: int


@dataclass(frozen=True)
class RefundDone:
    entry: TxnEntry


@dataclass(frozen=True)
class CloseConfirm:
    preview: ZReport


@dataclass(frozen=True)
class Closing:
    request: int


@dataclass(frozen=True)
class ReportView:
    report: ZReport


@dataclass(frozen=True)
class Technician:
    lines: tuple[str, ...] = ()  # the last self-test's results


Screen = (
    Booting
    | Home
    | AmountEntry
    | Items
    | Charge
    | Authorizing
    | Recording
    | Approved
    | Refused
    | Notice
    | History
    | PinEntry
    | RefundAmount
    | Refunding
    | RefundDone
    | CloseConfirm
    | Closing
    | ReportView
    | Technician
)


@dataclass(frozen=True)
class Context:
    config: SessionConfig
    now_ms: int = 0
    status: Status = Status()
    today: tuple[TxnEntry, ...] = ()  # oldest first
    paid_codes: tuple[str, ...] = ()  # texts and token ids that paid, newest last (bounded)
    next_request: int = 1
    # Wrong PINs since that PIN was last right: one count per PIN, which decides the lock and
    # what the PIN screen says. Per PIN, so that knowing one PIN does not reset the count of
    # guesses at the other (hostile review 2 M4).
    manager_pin_failures: int = 0
    technician_pin_failures: int = 0
    # The PIN lock on the monotonic clock (terminal/core/session/pinlock.py): when it started
    # (or when the app restarted with a lock running) and how long it lasts from then.
    pin_locked_at_mono_ms: int = 0
    pin_locked_ms: int = 0
    mono_ms: int = 0  # the last Tick's monotonic time (wall time is `now_ms`)


@dataclass(frozen=True)
class State:
    screen: Screen = field(default_factory=Booting)
    ctx: Context = field(default_factory=lambda: Context(SessionConfig()))


def limit_won(config: SessionConfig) -> int:
    return min(config.max_sale_won, MAX_AMOUNT_WON)
