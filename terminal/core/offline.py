"""Offline acceptance rules: may this terminal take this payment without the platform?

Pure: every input (limits, what is stored unsynced, the clock's state, the token's checks) is
passed in. Each refusal has a code for logs and a sentence a shopkeeper can read in Korean.

The clock is trusted only after a synchronisation in this boot (NTP, or a platform-signed time)
that is at most MAX_SYNC_AGE_MS old. A Pi has no real-time clock: after a power cut it resumes
at a stale time, later than anything it trusted before, so "not rewound" proves nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from terminal.core.tokens import (
    DEFAULT_BARCODE,
    BarcodeFormat,
    TokenError,
    parse_customer_barcode,
    verify_customer_token,
)

HOUR_MS = 3_600_000
# How long one synchronisation keeps the clock trusted. A running Pi's crystal drifts about
# 50 ppm, 4.3 s a day: well inside the tokens' 30 s skew allowance after a day offline.
MAX_SYNC_AGE_MS = 24 * HOUR_MS
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Refusal:
    code: str
    message_ko: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message_ko}"


REFUSALS = {
    "offline_disabled": "오프라인 결제가 꺼져 있습니다. 네트워크 연결 후 다시 시도하세요.",
    "amount_over_limit": "오프라인 1회 결제 한도를 넘었습니다.",
    "total_over_limit": "오프라인 누적 금액 한도를 넘었습니다. 네트워크에 연결해 동기화하세요.",
    "count_over_limit": "오프라인 누적 건수 한도를 넘었습니다. 네트워크에 연결해 동기화하세요.",
    "unsynced_too_old": "동기화하지 않은 거래가 너무 오래되었습니다. 네트워크에 연결하세요.",
    "clock_untrusted": "단말기 시계를 확인할 수 없습니다. 네트워크에 연결해 시간을 맞추세요.",
    "barcode_online_only": "바코드 결제는 온라인에서만 됩니다. QR 코드를 보여 달라고 하세요.",
    "token_over_cap": "고객 앱의 오프라인 결제 한도를 넘었습니다.",
    "expired": "결제 코드의 유효시간(3분)이 지났습니다. 새 코드를 요청하세요.",
    "not_yet_valid": "결제 코드의 시간이 맞지 않습니다. 새 코드를 요청하세요.",
    "replayed": "이미 사용된 결제 코드입니다. 새 코드를 요청하세요.",
    "bad_signature": "위조되었거나 손상된 결제 코드입니다.",
    "unknown_key": "확인할 수 없는 결제 코드입니다. 네트워크 연결 후 다시 시도하세요.",
    "wrong_issuer": "인천e음 결제 코드가 아닙니다.",
    "wrong_version": "지원하지 않는 결제 코드입니다. 앱을 업데이트하세요.",
    "malformed": "결제 코드를 읽을 수 없습니다.",
    "bad_check_digit": "바코드를 잘못 읽었습니다. 다시 스캔하세요.",
    "bad_lifetime": "유효시간이 3분을 넘는 결제 코드는 받을 수 없습니다. 새 코드를 요청하세요.",
}


def refusal(code: str) -> Refusal:
    return Refusal(code, REFUSALS[code])


@dataclass(frozen=True)
class OfflineLimits:
    enabled: bool
    max_amount_won: int
    max_total_won: int
    max_count: int
    max_age_hours: int


@dataclass(frozen=True)
class Unsynced:
    """What this terminal holds that the platform has not accepted yet (offline sales)."""

    total_won: int = 0
    count: int = 0
    oldest_ms: int | None = None


@dataclass(frozen=True)
class ClockState:
    """The wall clock now, and what vouches for it."""

    now_ms: int
    synced_since_boot: bool  # NTP or a platform-signed time was obtained since this boot
    last_trusted_ms: int  # wall time of that latest synchronisation (0: never)
    max_sync_age_ms: int = MAX_SYNC_AGE_MS

    @property
    def trusted(self) -> bool:
        """Synchronised in this boot, not rewound since, and not too long ago."""
        if not self.synced_since_boot or self.last_trusted_ms <= 0:
            return False
        return 0 <= self.now_ms - self.last_trusted_ms <= self.max_sync_age_ms


def check_offline(
    amount_won: int,
    limits: OfflineLimits,
    unsynced: Unsynced,
    clock: ClockState,
    *,
    token_cap_won: int | None = None,
) -> Refusal | None:
    """None when an offline CPM sale of `amount_won` may be accepted, else the first refusal.

    The one place the clock's trust is checked for an offline acceptance. The token itself
    (signature, expiry, issuer, replay) is checked with its own refusals (see `refusal`).
    """
    if not limits.enabled:
        return refusal("offline_disabled")
    if not clock.trusted:
        return refusal("clock_untrusted")
    if amount_won > limits.max_amount_won:
        return refusal("amount_over_limit")
    if token_cap_won is not None and amount_won > token_cap_won:
        return refusal("token_over_cap")
    if unsynced.count + 1 > limits.max_count:
        return refusal("count_over_limit")
    if unsynced.total_won + amount_won > limits.max_total_won:
        return refusal("total_over_limit")
    if (
        unsynced.oldest_ms is not None
        and clock.now_ms - unsynced.oldest_ms > limits.max_age_hours * HOUR_MS
    ):
        return refusal("unsynced_too_old")
    return None


def token_refusal(reason: str) -> Refusal:
    """The shopkeeper's message for a TokenError reason."""
    return refusal(reason if reason in REFUSALS else "malformed")


def accept_offline_token(
    text: str,
    amount_won: int,
    *,
    check,
    expected_issuer: str,
    already_seen,
    limits: OfflineLimits,
    unsynced: Unsynced,
    clock: ClockState,
    barcode: BarcodeFormat = DEFAULT_BARCODE,
):
    """Decides an offline customer-presented sale: (token, None) to accept, (None, Refusal).

    `check` verifies platform signatures (see terminal.core.sealed); `already_seen(token_id)`
    says whether this terminal recorded the token before. The barcode form never passes.
    The limits and the clock are checked first: an untrusted clock cannot judge expiry.
    """
    if _DIGITS.fullmatch(text):
        try:
            parse_customer_barcode(text, barcode)
        except TokenError as error:
            return None, token_refusal(error.reason)
        return None, refusal("barcode_online_only")
    problem = check_offline(amount_won, limits, unsynced, clock)
    if problem:
        return None, problem
    try:
        token = verify_customer_token(text, check, clock.now_ms // 1000, expected_issuer)
    except TokenError as error:
        return None, token_refusal(error.reason)
    if already_seen(str(token.token_id)):
        return None, refusal("replayed")
    if amount_won > token.offline_cap_won:
        return None, refusal("token_over_cap")
    return token, None
