"""Upload: per-record results, idempotent forever by id, signatures checked against the caller's
certificate, chain and counter continuity per device (gaps held, forks rejected)."""

from __future__ import annotations

import dataclasses
import json

from terminal.core.base64url import b64url_decode
from terminal.core.records import GENESIS_HASH, chain_hash, record_from_json
from terminal.signing import DeviceKey
from terminal.sim.platform.bench import signed_records
from terminal.sim.platform.transactions import held_seqs

from .conftest import make_device


def _items(records):
    return [{"id": r["id"], "jws": r["jws"]} for r in records]


def _upload(device, records):
    answer = device.post("/v1/transactions", {"records": _items(records)})
    assert answer.status == 200, answer.body
    return answer.json()["results"]


def _resigned(key: DeviceKey, jws: str, **changes) -> str:
    record = record_from_json(b64url_decode(jws.split(".")[1]))
    return key.jws(dataclasses.replace(record, **changes).canonical())


def test_a_batch_is_accepted_with_one_result_per_record_in_order(server, device):
    records = signed_records(device.key, device.device_id, 5)
    results = _upload(device, records)
    assert [r["id"] for r in results] == [r["id"] for r in records]
    assert {r["status"] for r in results} == {"accepted"}
    assert [r["seq"] for r in results] == [1, 2, 3, 4, 5]
    assert {r["chain"] for r in results} == {"linked"}


def test_the_same_batch_again_is_all_duplicate_and_stores_nothing_twice(server, device):
    records = signed_records(device.key, device.device_id, 3)
    _upload(device, records)
    again = _upload(device, records)
    assert [r["status"] for r in again] == ["duplicate"] * 3
    stored = server.call(
        lambda p: p.db.execute(
            "SELECT count(*) FROM records WHERE device_id = ?", (device.device_id,)
        ).fetchone()[0]
    )
    assert stored == 3


def test_the_same_id_with_other_bytes_is_a_conflict_and_the_first_stays(server, device):
    records = signed_records(device.key, device.device_id, 1)
    _upload(device, records)
    other = [
        {
            "id": records[0]["id"],
            "jws": _resigned(device.key, records[0]["jws"], clock_synced=False),
        }
    ]
    result = _upload(device, other)[0]
    assert (result["status"], result["reason"]) == ("conflict", "conflict")
    kept = server.call(
        lambda p: p.db.execute(
            "SELECT jws FROM records WHERE txn_id = ?", (records[0]["id"],)
        ).fetchone()[0]
    )
    assert kept == records[0]["jws"]


def test_a_gap_is_held_then_linked_when_the_missing_record_arrives(server, device):
    records = signed_records(device.key, device.device_id, 4)
    first = _upload(device, [records[0], records[2], records[3]])
    assert [(r["status"], r["chain"]) for r in first] == [
        ("accepted", "linked"),
        ("accepted", "held"),
        ("accepted", "linked"),
    ]
    assert server.call(held_seqs, device.device_id) == [3]
    filled = _upload(device, [records[1]])[0]
    assert (filled["status"], filled["chain"]) == ("accepted", "linked")
    assert server.call(held_seqs, device.device_id) == []
    assert _upload(device, [records[2]])[0]["chain"] == "linked"


def test_a_fork_of_the_stored_chain_is_rejected(server, device):
    records = signed_records(device.key, device.device_id, 3)
    _upload(device, records[:2])
    fork_seq = signed_records(device.key, device.device_id, 1, first_seq=2, prev_hash=GENESIS_HASH)
    wrong_prev = signed_records(device.key, device.device_id, 1, first_seq=3, prev_hash="1" * 64)
    bad_genesis = signed_records(device.key, device.device_id, 1, first_seq=1, prev_hash="2" * 64)
    results = _upload(device, fork_seq + wrong_prev + bad_genesis)
    assert [(r["status"], r["reason"]) for r in results] == [
        ("rejected", "seq_reused"),
        ("rejected", "chain_broken"),
        ("rejected", "seq_reused"),
    ]
    assert _upload(device, [records[2]])[0]["status"] == "accepted"


def test_a_held_record_that_its_predecessor_contradicts_rejects_the_predecessor(server, device):
    records = signed_records(device.key, device.device_id, 3)
    _upload(device, [records[0], records[2]])
    # Links correctly to seq 1, but seq 3 (held) points at the real seq 2, not at this one.
    impostor = signed_records(
        device.key, device.device_id, 1, first_seq=2, prev_hash=chain_hash(records[0]["jws"])
    )
    result = _upload(device, impostor)[0]
    assert (result["status"], result["reason"]) == ("rejected", "chain_broken")
    assert _upload(device, [records[1]])[0]["status"] == "accepted"


def test_records_are_checked_against_the_callers_certificate(server, device):
    stranger = DeviceKey.generate()
    forged = signed_records(stranger, device.device_id, 1)
    other_device = make_device(server)
    not_mine = signed_records(other_device.key, other_device.device_id, 1)
    good = signed_records(device.key, device.device_id, 1)
    mismatched = [{"id": not_mine[0]["id"], "jws": good[0]["jws"]}]
    garbage = [{"id": good[0]["id"].replace("7", "6", 1), "jws": "a.b.c"}]
    results = _upload(device, forged + not_mine + mismatched + garbage)
    assert [(r["status"], r["reason"]) for r in results] == [
        ("rejected", "bad_signature"),
        ("rejected", "bad_signature"),  # another device's key is not this caller's
        ("rejected", "id_mismatch"),
        ("rejected", "malformed"),
    ]
    other_device.client.close()


def test_a_record_naming_another_device_is_rejected(server, device):
    records = signed_records(device.key, "SIM-SOMEONE-ELSE", 1)
    result = _upload(device, records)[0]
    assert (result["status"], result["reason"]) == ("rejected", "wrong_device")


def test_more_than_500_records_or_a_body_over_1_mib_is_refused_whole(server, device):
    records = signed_records(device.key, device.device_id, 1)
    too_many = device.post("/v1/transactions", {"records": _items(records) * 501})
    assert too_many.status == 400
    assert too_many.json()["type"] == "urn:qr-terminal:problem:park:invalid_request"
    huge = {"records": [{"id": records[0]["id"], "jws": "x" * 16000}] * 70}
    too_big = device.post("/v1/transactions", huge)
    assert too_big.status == 413
    assert too_big.json()["type"] == "urn:qr-terminal:problem:park:too_large"


def test_the_same_id_twice_in_one_batch_is_duplicate_or_conflict(server, device):
    records = signed_records(device.key, device.device_id, 1)
    twin = {"id": records[0]["id"], "jws": _resigned(device.key, records[0]["jws"], offline=False)}
    results = _upload(device, [records[0], records[0], twin])
    assert [r["status"] for r in results] == ["accepted", "duplicate", "conflict"]


def test_a_body_that_is_not_json_or_not_integers_is_a_400(server, device):
    answer = device.client.request("POST", "/v1/transactions", None)
    assert answer.status == 400
    records = signed_records(device.key, device.device_id, 1)
    for text in (
        json.dumps({"records": _items(records), "extra": 1.5}),
        '{"records": [',
        json.dumps({"records": _items(records)}).replace("[", "[NaN, ", 1),
    ):
        answer = device.client.send("POST", "/v1/transactions", text.encode(), "application/json")
        assert answer.status == 400, text
        assert answer.json()["type"].endswith("park:invalid_request")
    wrong_type = device.client.send("POST", "/v1/transactions", b"records", "text/plain")
    assert wrong_type.status == 415
