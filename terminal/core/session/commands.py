"""What the session asks the world to do. The app executes each and answers with an event."""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.session.model import Screen, TxnEntry, ZReport


@dataclass(frozen=True)
class Show:
    """Draw this screen (the status bar comes from the state's context)."""

    screen: Screen


@dataclass(frozen=True)
class Feedback:
    """A sound/light pattern: "approved" (short double beep, green LED), "refused" (long beep,
    red LED), "key" (a click), "alert"."""

    pattern: str


@dataclass(frozen=True)
class CreateCharge:
    """Build and sign a sale QR for `amount_won` (after 선할인); register it when online."""

    request: int
    amount_won: int
    list_won: int
    discount_won: int


@dataclass(frozen=True)
class CancelCharge:
    charge_id: str


@dataclass(frozen=True)
class AuthorizeCode:
    """Authorize a customer-presented code for `amount_won`: online, else by the offline rules."""

    request: int
    text: str
    format: str
    amount_won: int
    online: bool


@dataclass(frozen=True)
class VerifyReceipt:
    """Check a customer's payment receipt QR against this charge (offline MPM)."""

    request: int
    text: str
    charge_id: str
    amount_won: int


@dataclass(frozen=True)
class RecordSale:
    request: int
    method: str  # "mpm" or "cpm"
    amount_won: int
    list_won: int
    discount_won: int
    offline: bool
    charge_id: str = ""
    token_id: str = ""


@dataclass(frozen=True)
class RecordRefund:
    """Refund at the platform, then record it: `void` when it takes back the whole sale."""

    request: int
    original: TxnEntry
    amount_won: int
    void: bool


@dataclass(frozen=True)
class RecordClose:
    request: int


@dataclass(frozen=True)
class PrintReceipt:
    entry: TxnEntry
    copy: bool = False  # a reprint says so on the paper


@dataclass(frozen=True)
class PrintReport:
    report: ZReport


@dataclass(frozen=True)
class SyncNow:
    pass


@dataclass(frozen=True)
class SelfTest:
    pass


Command = (
    Show
    | Feedback
    | CreateCharge
    | CancelCharge
    | AuthorizeCode
    | VerifyReceipt
    | RecordSale
    | RecordRefund
    | RecordClose
    | PrintReceipt
    | PrintReport
    | SyncNow
    | SelfTest
)
