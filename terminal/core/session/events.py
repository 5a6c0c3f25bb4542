"""What the session reacts to: keys, scans, platform and ledger answers, status, and time.

Every event is a frozen value. Time arrives only in `Tick` (and in what the app stamps on its
answers); the session never reads a clock. Answers to a command carry that command's
`request` id, so a late or stray answer cannot change a newer flow.
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.keys import Key, KeyEvent
from terminal.core.session.model import TxnEntry, ZReport

__all__ = [
    "Authorized",
    "ChargeFailed",
    "ChargePaid",
    "ChargeReady",
    "ClockTrust",
    "Committed",
    "DayClosed",
    "DayLoaded",
    "Declined",
    "DeviceTrouble",
    "Event",
    "Key",
    "KeyEvent",
    "LedgerFailed",
    "ReceiptAccepted",
    "Scanned",
    "SelfTestDone",
    "StandPayments",
    "SyncStatus",
    "Tick",
]


@dataclass(frozen=True)
class Tick:
    """The clocks as the app read them. `now_ms`, the wall clock in Unix milliseconds, is the
    time shown and recorded. `mono_ms`, a monotonic clock in milliseconds, measures how long
    something lasts (the PIN lock): the wall clock jumps when NTP first syncs a Pi that has no
    real-time clock, often by hours, and the monotonic one never does. It restarts at boot, so
    only differences between two readings of one run mean anything."""

    now_ms: int
    mono_ms: int


@dataclass(frozen=True)
class DayLoaded:
    """At start: today's transactions since the last close, read from the ledger. The session
    shows home only after this arrives."""

    entries: tuple[TxnEntry, ...]
    now_ms: int


@dataclass(frozen=True)
class Scanned:
    """A code newly held in front of the camera (the scan worker reports each hold once)."""

    text: str
    format: str  # "QRCode" or "Code128"


@dataclass(frozen=True)
class ChargeReady:
    """The signed sale QR for CreateCharge `request` is built (and registered when online)."""

    request: int
    charge_id: str
    payload: str
    expires_ms: int


@dataclass(frozen=True)
class ChargeFailed:
    request: int
    message_ko: str


@dataclass(frozen=True)
class ChargePaid:
    """The platform says this charge was paid (MPM, online)."""

    charge_id: str
    amount_won: int
    payment_ref: str = ""


@dataclass(frozen=True)
class Authorized:
    """A customer code (CPM) was authorized: online by the platform, or offline by the rules."""

    request: int
    token_id: str
    offline: bool


@dataclass(frozen=True)
class ReceiptAccepted:
    """The customer's payment receipt QR proved this charge paid (MPM, offline)."""

    request: int
    payment_ref: str


@dataclass(frozen=True)
class Declined:
    """An authorization, receipt or refund was refused; `message_ko` says why to the shopkeeper."""

    request: int
    code: str
    message_ko: str


@dataclass(frozen=True)
class Committed:
    """The ledger's commit of record request `request` returned: the record is durable."""

    request: int
    entry: TxnEntry


@dataclass(frozen=True)
class LedgerFailed:
    """The ledger refused or failed the write: nothing was recorded."""

    request: int
    message_ko: str


@dataclass(frozen=True)
class DayClosed:
    request: int
    report: ZReport


@dataclass(frozen=True)
class SyncStatus:
    online: bool
    queue_depth: int = 0
    oldest_ms: int | None = None
    parked: int = 0


@dataclass(frozen=True)
class ClockTrust:
    trusted: bool


@dataclass(frozen=True)
class DeviceTrouble:
    """`device` ("camera", "printer", "display", ...) has a problem, or none when `problem` is
    empty (it recovered)."""

    device: str
    problem: str = ""


@dataclass(frozen=True)
class StandPayments:
    """Payments to the printed static QR stand that sync learned of from the platform."""

    entries: tuple[TxnEntry, ...]


@dataclass(frozen=True)
class SelfTestDone:
    lines: tuple[str, ...]


Event = (
    KeyEvent
    | Tick
    | DayLoaded
    | Scanned
    | ChargeReady
    | ChargeFailed
    | ChargePaid
    | Authorized
    | ReceiptAccepted
    | Declined
    | Committed
    | LedgerFailed
    | DayClosed
    | SyncStatus
    | ClockTrust
    | DeviceTrouble
    | StandPayments
    | SelfTestDone
)
