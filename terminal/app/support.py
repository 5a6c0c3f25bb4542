"""What the app's effects share: the platform's messages and timings, the app-internal
events, and small helpers (a sealed code's key tag, benefit figures, a new transaction id, the
platform's refusal as an event). The journal is read through terminal/ledger/reader.py."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from terminal.core.benefits import Benefits
from terminal.core.ids import uuid7
from terminal.core.session import commands as c
from terminal.core.session.events import Declined
from terminal.hw.feedback import Signal

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


def new_txn_id() -> str:
    """A fresh time-ordered transaction id (UUIDv7) for a call to the platform."""
    return str(uuid7(time.time_ns() // 1_000_000, os.urandom(10)))


def platform_declined(request: int, reason: str | None, fallback_ko: str) -> Declined:
    """The platform's refusal for the session: its reason, and the Korean message for it
    (`fallback_ko` for a reason we have no message for)."""
    reason = reason or "declined"
    return Declined(request, reason, PLATFORM_REASONS.get(reason, fallback_ko))


def benefits_of(figures) -> Benefits:
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
