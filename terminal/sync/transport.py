"""The HTTP layer under the sync: a requests Session with the device certificate and the pinned
platform CA, bounded reads, and one mapping from what came back to an answer or a SyncError.

The seam for tests and the bench is `Session.mount`: `make_session(..., adapter=...)` puts any
requests transport adapter under the same code path, and `HandlerAdapter` answers requests from
a Python function without a socket.
"""

from __future__ import annotations

import email.utils
import io
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from terminal.sync.errors import (
    DeviceFilesMissing,
    DeviceRefused,
    MalformedResponse,
    Parked,
    PlatformBusy,
    PlatformUnreachable,
    Problem,
    RetryLater,
    ServerUntrusted,
    ShowShopkeeper,
    SyncError,
)

# The largest answer the protocol has is an upload result for 500 records (~60 KB) or a JWKS;
# anything far beyond is a broken or hostile server, cut off before it fills the Pi's memory.
DEFAULT_BODY_CAP = 2 * 1024 * 1024
CHUNK = 64 * 1024
MAX_RETRY_AFTER_SECONDS = 3600.0
JSON_TYPES = ("application/json", "application/problem+json")


@dataclass(frozen=True)
class TlsFiles:
    """The pinned platform CA, and the device certificate and key (absent for enrollment)."""

    ca: Path
    cert: Path | None = None
    key: Path | None = None


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 10.0

    def with_read(self, read: float) -> tuple[float, float]:
        return (self.connect, read)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None for 204/304


def make_session(
    tls: TlsFiles, *, adapter: BaseAdapter | None = None, pool_size: int = 2
) -> requests.Session:
    """A Session that keeps connections alive, trusts only the platform CA and presents the
    device certificate. `adapter` replaces the real transport (tests, fault injection)."""
    session = requests.Session()
    # The environment must not reroute or re-trust us: no proxies, no netrc, no CA bundle vars.
    session.trust_env = False
    session.verify = str(tls.ca)
    if tls.cert is not None:
        session.cert = (str(tls.cert), str(tls.key or tls.cert))
    # No automatic retries: the worker decides when to retry, with backoff and jitter.
    real = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter or real)
    # Plain HTTP is never spoken to the platform: mTLS is the device's identity.
    session.mount("http://", _RefuseAdapter())
    session.headers.update({"Accept": "application/json", "Accept-Encoding": "identity"})
    return session


def request(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: tuple[float, float],
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    cap: int = DEFAULT_BODY_CAP,
) -> Answer:
    """One call. Returns the answer for 2xx/304; raises a SyncError for everything else."""
    try:
        response = session.request(
            method,
            url,
            json=json_body,
            headers=headers,
            params=params,
            timeout=timeout,
            stream=True,
            allow_redirects=False,
        )
    except requests.exceptions.SSLError as error:
        raise ServerUntrusted(f"TLS with the platform failed: {_short(error)}") from None
    except requests.exceptions.RequestException as error:
        raise PlatformUnreachable(
            f"{method} {url}: {_short(error)}", no_connection(error)
        ) from None
    except OSError as error:  # after RequestException, which is an OSError too
        raise DeviceFilesMissing(f"TLS files: {_short(error)}") from None
    try:
        raw = read_capped(response, cap, deadline_seconds=sum(timeout) * 2)
    finally:
        response.close()
    return interpret(response.status_code, response.headers, raw)


def no_connection(error: requests.exceptions.RequestException) -> bool:
    """True when no TCP connection could be made at all (refused, unreachable, DNS, connect
    timeout), as opposed to a server that accepted and then failed."""
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def read_capped(response: requests.Response, cap: int, deadline_seconds: float) -> bytes:
    """The body, refusing more than `cap` bytes and a server that drips it out forever."""
    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        raise MalformedResponse(f"answer of {int(declared):,} bytes exceeds the {cap:,} cap")
    started = time.monotonic()
    body = bytearray()
    try:
        for chunk in response.iter_content(CHUNK):
            body += chunk
            if len(body) > cap:
                raise MalformedResponse(f"answer exceeds the {cap:,}-byte cap; cut off")
            if time.monotonic() - started > deadline_seconds:
                raise PlatformUnreachable(f"answer still arriving after {deadline_seconds:.0f} s")
    except requests.exceptions.RequestException as error:
        raise PlatformUnreachable(f"answer cut off: {_short(error)}") from None
    return bytes(body)


def interpret(status: int, headers: Mapping[str, str], raw: bytes) -> Answer:
    """Maps a status, headers and body to an Answer or the SyncError the caller acts on."""
    if status == 304 or status == 204:
        return Answer(status, headers, None)
    if status >= 500 or status == 429:
        problem = _problem_or_none(status, headers, raw)
        raise PlatformBusy(f"platform busy: {problem or status}", problem, retry_after(headers))
    if 400 <= status < 500:
        problem = _problem_or_none(status, headers, raw) or Problem("about:blank", "", status)
        raise error_for(problem, retry_after(headers))
    if not 200 <= status < 300:
        raise MalformedResponse(f"unexpected HTTP status {status}")
    return Answer(status, headers, decode_json(headers, raw))


def error_for(problem: Problem, after: float | None = None) -> SyncError:
    """The exception a 4xx problem means: the problem type's class decides when present."""
    action = problem.action
    if action == "retry":
        return PlatformBusy(f"platform asks to retry: {problem}", problem, after)
    identity = problem.name.startswith("certificate_") or problem.name == "unknown_device"
    if problem.status in (401, 403) and (action is None or (action == "show" and identity)):
        # The device's identity is the problem, not the request: records stay queued.
        return DeviceRefused(f"device refused: {problem}", problem)
    if action == "show":
        return ShowShopkeeper(str(problem), problem)
    return Parked(f"refused for good: {problem}", problem)


def decode_json(headers: Mapping[str, str], raw: bytes) -> Any:
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise MalformedResponse(f"content type {content_type or 'missing'!r}, expected JSON")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedResponse(f"answer is not valid JSON: {error}") from None
    except RecursionError:
        raise MalformedResponse("answer is JSON nested too deeply to read") from None


def _problem_or_none(status: int, headers: Mapping[str, str], raw: bytes) -> Problem | None:
    try:
        body = decode_json(headers, raw)
    except MalformedResponse:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("type", "about:blank"), str):
        return None
    return Problem(
        type=body.get("type", "about:blank"),
        title=str(body.get("title", "")),
        status=status,
        detail=str(body.get("detail", "")),
        retry_after=_seconds(body.get("retry_after_seconds")),
    )


def _seconds(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return min(float(value), MAX_RETRY_AFTER_SECONDS)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from `Retry-After` (delta-seconds or an HTTP date measured against the answer's
    own `Date`, so no local clock is read); capped so a bad header cannot park us for days."""
    value = headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
        sent = email.utils.parsedate_to_datetime(headers.get("Date", ""))
    except (TypeError, ValueError):
        return None
    seconds = (when - sent).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _short(error: Exception) -> str:
    text = str(error)
    return text if len(text) <= 200 else text[:200] + "…"


class _RefuseAdapter(BaseAdapter):
    def send(self, request, **kwargs):
        raise requests.exceptions.InvalidURL(
            f"{request.url}: the platform is only spoken to over https"
        )

    def close(self):
        pass


Handler = Callable[[requests.PreparedRequest], tuple[int, Mapping[str, str], bytes]]


class HandlerAdapter(BaseAdapter):
    """A transport that answers from a Python function: (status, headers, body). The function
    may raise a requests exception to play a lost connection. Counts the requests it saw."""

    def __init__(self, handler: Handler):
        super().__init__()
        self.handler = handler
        self.sent = 0

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.sent += 1
        status, headers, body = self.handler(request)
        response = requests.Response()
        response.status_code = status
        response.headers = CaseInsensitiveDict(headers)
        response.raw = io.BytesIO(body)
        response.url = request.url
        response.request = request
        response.reason = "test"
        return response

    def close(self):
        pass


def json_answer(status: int, body: Any, content_type: str = "application/json"):
    """A handler's return value for a JSON body."""
    return status, {"Content-Type": content_type}, json.dumps(body).encode()


__all__ = [
    "DEFAULT_BODY_CAP",
    "Answer",
    "HandlerAdapter",
    "RetryLater",
    "Timeouts",
    "TlsFiles",
    "interpret",
    "json_answer",
    "make_session",
    "request",
    "retry_after",
]
