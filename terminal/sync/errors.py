"""What can go wrong talking to the platform, and whether the caller retries, parks or shows it.

Every failure the sync raises is one of three kinds, named by `action`:
- retry: transient (no network, timeout, 5xx, 429/503, a malformed or oversized answer). Nothing
  changed on the terminal; try again later, honouring `retry_after` when the platform gave one.
- park: this request will never succeed as sent (a 4xx, a record-level conflict). The records
  involved are kept as rejected with the platform's reason for the operator; never dropped.
- show: tell the shopkeeper (declined, already paid, certificate refused). Not retried blindly.
"""

from __future__ import annotations

from dataclasses import dataclass

PROBLEM_PREFIX = "urn:qr-terminal:problem:"
ACTIONS = ("retry", "park", "show")


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem-details answer (or what we could make of a non-conforming one)."""

    type: str
    title: str
    status: int
    detail: str = ""
    retry_after: float | None = None  # the body's retry_after_seconds, if any

    @property
    def action(self) -> str | None:
        """retry / park / show from `urn:qr-terminal:problem:<class>:<name>`, else None."""
        if not self.type.startswith(PROBLEM_PREFIX):
            return None
        kind = self.type[len(PROBLEM_PREFIX) :].split(":", 1)[0]
        return kind if kind in ACTIONS else None

    @property
    def name(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    def __str__(self) -> str:
        text = f"{self.status} {self.title}"
        return f"{text}: {self.detail}" if self.detail else text


class SyncError(Exception):
    """Base class. `message_ko` is the shopkeeper's line; `action` what the caller does."""

    action = "retry"
    message_ko = "플랫폼과 통신하지 못했습니다. 잠시 후 다시 시도합니다."

    def __init__(self, message: str, problem: Problem | None = None):
        super().__init__(message)
        self.problem = problem


class RetryLater(SyncError):
    """Transient: nothing changed on the terminal. `retry_after` (seconds) when the platform
    said how long to wait."""

    def __init__(
        self, message: str, problem: Problem | None = None, retry_after: float | None = None
    ):
        super().__init__(message, problem)
        self.retry_after = retry_after


class PlatformUnreachable(RetryLater):
    """No answer at all: connection refused or reset, DNS, timeout, TLS failure.

    `no_connection`: not even a TCP connection could be made (refused, no route, DNS, connect
    timeout): the network itself is down, so the worker watches for it to come back."""

    message_ko = "네트워크에 연결되어 있지 않습니다. 연결되면 자동으로 전송합니다."

    def __init__(self, message: str, no_connection: bool = False):
        super().__init__(message)
        self.no_connection = no_connection


class ServerUntrusted(PlatformUnreachable):
    """The server's certificate is not from the pinned platform CA (or TLS failed outright).

    Retried like a lost network (the real platform may come back), but the status shows it:
    a terminal that keeps seeing this is probably behind an intercepting proxy."""

    message_ko = "플랫폼 인증서를 확인할 수 없습니다. 기술 지원에 연락하세요."


class PlatformBusy(RetryLater):
    """5xx, 429 or 503, or a retry-class problem: the platform asked us to come back later."""


class MalformedResponse(RetryLater):
    """The answer was not what the protocol promises (bad JSON, wrong content type, a field
    missing, too large). Nothing is believed from it; the request is retried later."""


class Parked(SyncError):
    """The platform refused this request for good (4xx or a park-class problem)."""

    action = "park"
    message_ko = "플랫폼이 거래를 거부했습니다. 관리자 확인이 필요합니다."


class ShowShopkeeper(SyncError):
    """An answer the shopkeeper must see (a show-class problem: already paid, an enrollment
    code used, expired or locked, ...); `problem.name` says which."""

    action = "show"
    message_ko = "플랫폼이 요청을 처리할 수 없습니다."


class DeviceRefused(ShowShopkeeper):
    """401/403: the platform does not accept this device's certificate (revoked, expired)."""

    message_ko = "단말기 인증서가 거부되었습니다. 기술 지원에 연락하세요."


class DeviceFilesMissing(ShowShopkeeper):
    """The pinned CA, the device certificate or its key cannot be read: provision again."""

    message_ko = "단말기 인증서 파일을 읽을 수 없습니다. 기술 지원에 연락하세요."


class UntrustedAnswer(SyncError):
    """A platform-signed answer (time, keys) that does not verify: believed in nothing."""

    message_ko = "플랫폼 서명을 확인할 수 없습니다."
