"""A platform in a Python function behind the transport seam (HandlerAdapter): upload with the
protocol's idempotency, and the network faults of the lossy tests, drawn from a seeded
generator. The real simulator over HTTPS + mTLS is used beside it (test_real_server.py)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

import requests

from terminal.sync.client import PlatformClient
from terminal.sync.transport import HandlerAdapter, TlsFiles, json_answer, make_session

BASE = "https://platform.test"


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

    def __call__(self, request: requests.PreparedRequest):
        if not self.online or self.faults.roll(self.faults.drop_request):
            raise requests.exceptions.ConnectionError("connection refused (fake)")
        if self.override is not None:
            return self.override(request)
        if self.faults.roll(self.faults.unavailable):
            return problem(503, "retry", "unavailable", **{"Retry-After": "1"})
        if request.path_url == "/v1/transactions" and request.method == "POST":
            answer = self.upload(json.loads(request.body))
        else:
            return problem(404, "park", "not_found")
        if self.faults.roll(self.faults.drop_reply):
            raise requests.exceptions.ConnectionError("reply lost (fake)")
        return answer

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
