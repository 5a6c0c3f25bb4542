"""RFC 9457 problem details: the one error shape, whose type says retry, park or show."""

from __future__ import annotations

import json

from aiohttp import web

PROBLEM_TYPE = "application/problem+json"
CLASSES = ("retry", "park", "show")


class Problem(Exception):
    """Raised by a handler to answer with a problem document instead of a body."""

    def __init__(
        self,
        status: int,
        kind: str,
        name: str,
        detail: str,
        *,
        title: str | None = None,
        retry_after: int | None = None,
    ):
        if kind not in CLASSES:
            raise ValueError(f"problem class must be one of {CLASSES}, got {kind!r}")
        super().__init__(f"{status} {kind}:{name}: {detail}")
        self.status, self.kind, self.name, self.detail = status, kind, name, detail
        self.title = title or name.replace("_", " ").capitalize()
        self.retry_after = retry_after

    @property
    def type(self) -> str:
        return f"urn:qr-terminal:problem:{self.kind}:{self.name}"

    def response(self) -> web.Response:
        body = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        headers = {}
        if self.retry_after is not None:
            body["retry_after_seconds"] = self.retry_after
            headers["Retry-After"] = str(self.retry_after)
        return web.Response(
            status=self.status,
            body=json.dumps(body, ensure_ascii=False).encode(),
            content_type=PROBLEM_TYPE,
            headers=headers,
        )


def invalid(detail: str) -> Problem:
    return Problem(400, "park", "invalid_request", detail, title="Invalid request")


def not_found(detail: str) -> Problem:
    return Problem(404, "park", "not_found", detail, title="Not found")


def idempotency_conflict(detail: str) -> Problem:
    return Problem(409, "park", "idempotency_conflict", detail, title="Idempotency key reused")


def internal(detail: str = "the platform failed; retry") -> Problem:
    return Problem(500, "retry", "internal_error", detail, title="Internal error")


def unavailable(retry_after: int, detail: str = "the platform is busy; retry later") -> Problem:
    return Problem(
        503, "retry", "unavailable", detail, title="Unavailable", retry_after=retry_after
    )
