"""The platform's calls (docs/openapi.yaml), one method each, over one kept-alive Session.

A client belongs to one thread: the sync worker has its own, the app has its own (a requests
Session is not meant to be shared between threads). Each answer reports contact to
`on_contact`, so the worker resumes at once when the app's call finds the network back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import BaseAdapter

from terminal.sync import answers
from terminal.sync.errors import DeviceFilesMissing, PlatformUnreachable, SyncError
from terminal.sync.transport import (
    DEFAULT_BODY_CAP,
    Answer,
    Timeouts,
    TlsFiles,
    make_session,
    request,
)

# Protocol bounds (openapi.yaml): at most 500 records and 1 MiB per upload.
MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 1024 * 1024
MAX_LONG_POLL_SECONDS = 25


class PlatformClient:
    def __init__(
        self,
        base_url: str,
        session: requests.Session,
        timeouts: Timeouts | None = None,
        *,
        cap: int = DEFAULT_BODY_CAP,
        on_contact: Callable[[bool], None] | None = None,
    ):
        self.base = base_url.rstrip("/")
        self.session = session
        self.timeouts = timeouts or Timeouts()
        self.cap = cap
        self.on_contact = on_contact

    @classmethod
    def connect(
        cls,
        base_url: str,
        tls: TlsFiles,
        timeouts: Timeouts | None = None,
        *,
        adapter: BaseAdapter | None = None,
        **options,
    ) -> PlatformClient:
        return cls(base_url, make_session(tls, adapter=adapter), timeouts, **options)

    def close(self) -> None:
        self.session.close()

    def call(self, method: str, path: str, *, read: float | None = None, **options) -> Answer:
        """One request; any HTTP answer (even a refusal) counts as contact, silence does not."""
        timeout = self.timeouts.with_read(read if read is not None else self.timeouts.read)
        try:
            answer = request(
                self.session, method, self.base + path, timeout=timeout, cap=self.cap, **options
            )
        except (PlatformUnreachable, DeviceFilesMissing):
            self._contact(False)
            raise
        except SyncError:
            self._contact(True)
            raise
        self._contact(True)
        return answer

    def _contact(self, reached: bool) -> None:
        if self.on_contact is not None:
            self.on_contact(reached)

    # --- transactions ----------------------------------------------------------------------

    def upload(self, records: Sequence[tuple[str, str]]) -> list[answers.UploadResult]:
        """Sends (id, jws) records; returns the platform's per-record results (unchecked
        against what was sent: the caller matches them, see upload.py)."""
        body = {"records": [{"id": txn_id, "jws": jws} for txn_id, jws in records]}
        return answers.upload_results(self.call("POST", "/v1/transactions", json_body=body).body)

    # --- payments (the app's online calls) -------------------------------------------------

    def register_charge(
        self, charge_id: str, amount_won: int, expires_at_ms: int, payload: str
    ) -> answers.Charge:
        body = {
            "charge_id": charge_id,
            "amount": amount_won,
            "currency": "410",
            "expires_at_ms": expires_at_ms,
            "payload": payload,
        }
        return answers.charge(self.call("POST", "/v1/charges", json_body=body).body, charge_id)

    def charge_status(self, charge_id: str, wait_seconds: int = 0) -> answers.Charge:
        """Long-poll: the platform answers as soon as the charge is not pending, or after the
        wait. The read timeout covers the wait plus the usual margin."""
        wait = max(0, min(int(wait_seconds), MAX_LONG_POLL_SECONDS))
        answer = self.call(
            "GET",
            f"/v1/charges/{quote(charge_id, safe='')}",
            params={"wait": str(wait)},
            read=wait + self.timeouts.read,
        )
        return answers.charge(answer.body, charge_id)

    def cancel_charge(self, charge_id: str) -> answers.Charge:
        answer = self.call("POST", f"/v1/charges/{quote(charge_id, safe='')}/cancel")
        return answers.charge(answer.body, charge_id)

    def authorize(
        self, transaction_id: str, token: str, amount_won: int, *, barcode: bool = False
    ) -> answers.Decision:
        """CPM online authorization. Idempotent by transaction_id: after a lost reply, call
        again with the same id and the same token; the platform returns its first answer."""
        body = {
            "transaction_id": transaction_id,
            "token": token,
            "format": "code128" if barcode else "qr",
            "amount": amount_won,
        }
        answer = self.call("POST", "/v1/authorizations", json_body=body)
        return answers.authorization(answer.body, transaction_id, amount_won)

    def refund(self, refund_id: str, original_txn: str, amount_won: int) -> answers.Decision:
        body = {
            "refund_id": refund_id,
            "original_transaction_id": original_txn,
            "amount": amount_won,
        }
        answer = self.call("POST", "/v1/refunds", json_body=body)
        return answers.refund(answer.body, refund_id, amount_won)

    def stand_payments(
        self, after: int, limit: int = 100
    ) -> tuple[tuple[answers.StandPayment, ...], int]:
        """Payments to this terminal's printed QR stand with a cursor above `after`, oldest
        first, and the cursor to ask after next."""
        params = {"after": str(after), "limit": str(limit)}
        body = self.call("GET", "/v1/stand-payments", params=params).body
        return answers.stand_payments(body, after)

    # --- platform state --------------------------------------------------------------------

    def keys(self) -> dict[str, Any]:
        body = self.call("GET", "/v1/keys").body
        answers.need(body, "keys", list, "keys answer")
        return body

    def config(self, etag: str | None) -> tuple[str | None, dict[str, Any] | None]:
        """(ETag, configuration), or (ETag, None) when the device's copy is current (304)."""
        headers = {"If-None-Match": etag} if etag else None
        answer = self.call("GET", "/v1/config", headers=headers)
        tag = answer.headers.get("ETag")
        if answer.status == 304:
            return tag or etag, None
        return tag, answers.need({"config": answer.body}, "config", dict, "config answer")

    def signed_time(self, nonce: str) -> dict[str, Any]:
        body = self.call("GET", "/v1/time", params={"nonce": nonce}).body
        answers.need(body, "time_ms", int, "time answer")
        answers.need(body, "jws", str, "time answer")
        return body

    def renew_certificate(self, csr_pem: bytes) -> dict[str, Any]:
        body = self.call("POST", "/v1/certificates", json_body={"csr": csr_pem.decode()}).body
        for name in ("device_id", "certificate"):
            answers.need(body, name, str, "certificate answer")
        answers.need(body, "ca_chain", list, "certificate answer")
        return body


def enroll(
    base_url: str,
    ca: Any,
    code: str,
    csr_pem: bytes,
    timeouts: Timeouts | None = None,
    *,
    adapter: BaseAdapter | None = None,
) -> answers.Enrollment:
    """The one call without a client certificate: a one-time code and a CSR made on the
    device → its id, certificate, CA chain, merchant, platform keys and configuration."""
    session = make_session(TlsFiles(ca=ca), adapter=adapter)
    try:
        client = PlatformClient(base_url, session, timeouts)
        body = {"code": code, "csr": csr_pem.decode()}
        return answers.enrollment(client.call("POST", "/v1/enrollments", json_body=body).body)
    finally:
        session.close()
