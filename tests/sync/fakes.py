"""A platform in a Python function behind the transport seam (HandlerAdapter): upload with the
protocol's idempotency, and the network faults of the lossy tests, drawn from a seeded
generator. The real simulator over HTTPS + mTLS is used beside it (test_real_server.py)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError

from terminal.core.records import canonical_json
from terminal.sync.client import PlatformClient
from terminal.sync.transport import HandlerAdapter, TlsFiles, json_answer, make_session

BASE = "https://platform.test"


def refused(url: str) -> requests.exceptions.ConnectionError:
    """What requests raises when nothing listens: the network (or the platform) is down."""
    reason = NewConnectionError(None, "Failed to establish a new connection: refused (fake)")
    return requests.exceptions.ConnectionError(MaxRetryError(None, url, reason))


def problem(status: int, kind: str, name: str, **headers):
    body = {
        "type": f"urn:qr-terminal:problem:{kind}:{name}",
        "title": name,
        "status": status,
        "detail": name,
    }
    return (
        status,
        {"Content-Type": "application/problem+json", **headers},
        json.dumps(body).encode(),
    )


@dataclass
class Faults:
    drop_request: float = 0.0  # lost before the platform saw it
    drop_reply: float = 0.0  # the platform committed, the reply was lost
    unavailable: float = 0.0  # 503 with Retry-After
    seed: int = 1
    rng: random.Random = field(init=False)

    def __post_init__(self):
        self.rng = random.Random(self.seed)

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate


@dataclass
class FakePlatform:
    """Keeps every accepted record by id (idempotent forever), like the protocol says."""

    faults: Faults = field(default_factory=Faults)
    stored: dict[str, str] = field(default_factory=dict)
    reject: dict[str, str] = field(default_factory=dict)  # id → reason to reject with
    online: bool = True
    uploads: int = 0
    override: object = None  # a function(request) → answer, to play a bad server
    signer: object = None  # DeviceKey standing in for the platform key (time)
    device_id: str = "D-TEST-0001"
    time_ms: int = 0
    jwks: dict | None = None
    config: dict | None = None
    config_version: int = 1
    gets: dict = field(default_factory=dict)  # path → how many GETs

    def __call__(self, request: requests.PreparedRequest):
        if not self.online:
            raise refused(request.url)
        if self.faults.roll(self.faults.drop_request):
            raise requests.exceptions.ConnectionError("connection reset by peer (fake)")
        if self.override is not None:
            return self.override(request)
        if self.faults.roll(self.faults.unavailable):
            return problem(503, "retry", "unavailable", **{"Retry-After": "1"})
        path = request.path_url.split("?")[0]
        if path == "/v1/transactions" and request.method == "POST":
            answer = self.upload(json.loads(request.body))
        elif request.method == "GET" and path in ("/v1/time", "/v1/keys", "/v1/config"):
            self.gets[path] = self.gets.get(path, 0) + 1
            answer = self.get(path, request)
        else:
            return problem(404, "park", "not_found")
        if self.faults.roll(self.faults.drop_reply):
            raise requests.exceptions.ConnectionError("reply lost (fake)")
        return answer

    def get(self, path, request):
        if path == "/v1/keys":
            return json_answer(200, self.jwks)
        if path == "/v1/config":
            tag = f'"v{self.config_version}"'
            if request.headers.get("If-None-Match") == tag:
                return 304, {"ETag": tag}, b""
            status, headers, body = json_answer(200, self.config)
            return status, {**headers, "ETag": tag}, body
        nonce = parse_qs(urlsplit(request.url).query)["nonce"][0]
        payload = {"device_id": self.device_id, "nonce": nonce, "time_ms": self.time_ms}
        jws = self.signer.jws(canonical_json(payload))
        return json_answer(200, {"time_ms": self.time_ms, "jws": jws})

    def upload(self, body):
        self.uploads += 1
        results = []
        for item in body["records"]:
            txn_id, jws = item["id"], item["jws"]
            if txn_id in self.reject:
                results.append({"id": txn_id, "status": "rejected", "reason": self.reject[txn_id]})
            elif txn_id not in self.stored:
                self.stored[txn_id] = jws
                results.append({"id": txn_id, "status": "accepted", "chain": "linked"})
            elif self.stored[txn_id] == jws:
                results.append({"id": txn_id, "status": "duplicate"})
            else:
                results.append({"id": txn_id, "status": "conflict", "reason": "conflict"})
        return json_answer(200, {"results": results})


def fake_client(platform, **options) -> tuple[PlatformClient, HandlerAdapter]:
    adapter = HandlerAdapter(platform)
    session = make_session(TlsFiles(ca="/nonexistent-ca.pem"), adapter=adapter)
    return PlatformClient(BASE, session, **options), adapter
