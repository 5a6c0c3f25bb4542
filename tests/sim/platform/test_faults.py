"""Fault injection, per run and at run time: each fault does what it says, is bounded by its
count, repeatable by its seed, and the upload stays exactly-once through all of them."""

from __future__ import annotations

import http.client
import json
import threading
import urllib.request

import pytest

from terminal.sim.platform import Fault, Faults
from terminal.sim.platform.bench import signed_records
from terminal.sim.platform.faults import FaultSpecError

TRANSPORT_ERRORS = (ConnectionError, http.client.HTTPException, OSError)


def _items(records):
    return [{"id": r["id"], "jws": r["jws"]} for r in records]


def _stored(server, device_id: str) -> list[str]:
    return server.call(
        lambda p: [
            row[0]
            for row in p.db.execute("SELECT txn_id FROM records WHERE device_id = ?", (device_id,))
        ]
    )


def test_drop_request_closes_the_connection_before_anything_happens(server, device):
    records = signed_records(device.key, device.device_id, 2)
    server.faults.set(Fault("drop_request", count=1))
    with pytest.raises(TRANSPORT_ERRORS):
        device.post("/v1/transactions", {"records": _items(records)})
    assert _stored(server, device.device_id) == []
    answer = device.post("/v1/transactions", {"records": _items(records)})
    assert [r["status"] for r in answer.json()["results"]] == ["accepted", "accepted"]


def test_drop_reply_commits_then_closes_so_the_retry_is_a_duplicate(server, device):
    records = signed_records(device.key, device.device_id, 2)
    server.faults.set(Fault("drop_reply", count=1))
    with pytest.raises(TRANSPORT_ERRORS):
        device.post("/v1/transactions", {"records": _items(records)})
    assert len(_stored(server, device.device_id)) == 2
    answer = device.post("/v1/transactions", {"records": _items(records)})
    assert [r["status"] for r in answer.json()["results"]] == ["duplicate", "duplicate"]


def test_500_and_503_are_retry_problems_and_503_says_when(server, device):
    server.faults.set(Fault("error_500", count=1), Fault("unavailable_503", count=1, seconds=7))
    first = device.get("/v1/keys")
    assert first.status == 500
    assert first.json()["type"] == "urn:qr-terminal:problem:retry:internal_error"
    second = device.get("/v1/keys")
    assert second.status == 503 and second.headers["Retry-After"] == "7"
    assert second.json()["type"] == "urn:qr-terminal:problem:retry:unavailable"
    assert device.get("/v1/keys").status == 200  # both counts used up


def test_close_mid_body_sends_half_the_answer_after_committing(server, device):
    records = signed_records(device.key, device.device_id, 3)
    server.faults.set(Fault("close_mid_body", count=1))
    with pytest.raises(TRANSPORT_ERRORS):
        device.post("/v1/transactions", {"records": _items(records)})
    assert len(_stored(server, device.device_id)) == 3


def test_slow_and_delayed_answers_arrive_whole(server, device):
    server.faults.set(Fault("slow", count=1, seconds=0.2), Fault("delay", count=1, seconds=0.1))
    slow = device.get("/v1/keys")
    delayed = device.get("/v1/keys")
    assert slow.json() == delayed.json() and len(slow.json()["keys"]) >= 2
    assert server.faults.snapshot()["fired"] == {"slow": 1, "delay": 1}


def test_refuse_closes_the_port_until_it_lifts_itself(server, device):
    lifted = threading.Event()

    def watch() -> None:
        if not server.faults.refusing:
            lifted.set()

    server.faults.on_change.append(watch)  # before the refusal: its end cannot be missed
    try:
        server.faults.set(Fault("refuse", seconds=0.5))
        server.settle()
        device.client.close()
        with pytest.raises(ConnectionRefusedError):
            device.get("/v1/keys")
        assert lifted.wait(10)
    finally:
        server.faults.on_change.remove(watch)
    server.settle()
    assert device.get("/v1/keys").status == 200


def test_a_fault_can_be_limited_to_a_path(server, device):
    server.faults.set(Fault("error_500", path="/v1/time"))
    assert device.get("/v1/keys").status == 200
    assert device.get("/v1/time?nonce=abcdefgh").status == 500


def test_the_same_seed_draws_the_same_faults():
    def run() -> list[bool]:
        faults = Faults(seed=7)
        faults.set(Fault("error_500", rate=0.5))
        return [faults.draw("/v1/keys") is not None for _ in range(50)]

    first = run()
    assert first == run() and 10 < sum(first) < 40


@pytest.mark.parametrize(
    "document",
    [
        {"faults": [{"kind": "explode"}]},
        {"faults": [{"kind": "delay", "rate": 2}]},
        {"faults": [{"kind": "delay", "seconds": 1000}]},
        {"faults": [{"kind": "delay", "colour": "red"}]},
        {"faults": "drop"},
        {"clock_skew_ms": "soon"},
        {"chaos": True},
    ],
)
def test_bad_fault_settings_are_refused_naming_the_problem(document):
    with pytest.raises(FaultSpecError):
        Faults().load(document)


def test_the_admin_endpoint_switches_faults_at_run_time(server, device):
    def admin(method: str, body: object | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            server.admin_url + "/admin/faults",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    status, state = admin("PUT", {"faults": [{"kind": "error_500", "count": 1}], "seed": 3})
    assert status == 200 and state["faults"][0]["kind"] == "error_500"
    assert device.get("/v1/keys").status == 500
    assert admin("GET")[1]["fired"] == {"error_500": 1}
    assert admin("PUT", {"faults": [{"kind": "nope"}]})[0] == 400


def test_a_lossy_network_leaves_every_record_stored_exactly_once(server, device):
    records = signed_records(device.key, device.device_id, 300)
    server.faults.set(
        Fault("drop_request", rate=0.3),
        Fault("drop_reply", rate=0.1),
        Fault("unavailable_503", rate=0.1, seconds=1),
        seed=11,
    )
    pending = {r["id"]: r for r in records}
    for _attempt in range(500):  # bounded: at 50% loss this ends in a few dozen rounds
        if not pending:
            break
        batch = list(pending.values())[:25]
        try:
            answer = device.post("/v1/transactions", {"records": _items(batch)})
        except TRANSPORT_ERRORS:
            continue
        if answer.status != 200:
            continue
        for result in answer.json()["results"]:
            assert result["status"] in ("accepted", "duplicate"), result
            pending.pop(result["id"])
    fired = dict(server.faults.fired)
    server.faults.clear()
    assert not pending
    stored = _stored(server, device.device_id)
    assert sorted(stored) == sorted(r["id"] for r in records)  # none lost, none twice
    assert fired["drop_reply"] > 0 and fired["drop_request"] > 0 and fired["unavailable_503"] > 0
