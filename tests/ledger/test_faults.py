"""Crashes and tampering: SIGKILL at random points loses nothing; every tampering is caught."""

from __future__ import annotations

import json
import random

import pytest

from terminal.ledger.chaos import run_chaos
from terminal.ledger.verify import verify_export
from tests.ledger.helpers import certificate_key, clock, open_ledger, sale


def test_200_sigkills_lose_no_approved_sale_and_leave_no_gap(tmp_path):
    report = run_chaos(tmp_path, kills=200, seed=1)
    assert report.problems == []
    assert report.approved >= 200 and report.records >= report.approved


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    folder = tmp_path_factory.mktemp("journal")
    ledger = open_ledger(folder)
    sales = [sale(ledger, 1000 * (n + 1), n, offline=n % 2 == 0, token=f"T{n}") for n in range(10)]
    ledger.record_refund(original_txn=sales[3].record.txn_id, amount_won=1500, clock=clock(20_000))
    ledger.record_close(clock=clock(30_000))
    lines = list(ledger.export_lines(clock(40_000).now_ms))
    # A second journal by the same device key: records an attacker could try to splice in.
    other = open_ledger(tmp_path_factory.mktemp("other"), ledger.key)
    foreign = [sale(other, 777, n).jws for n in range(3)]
    return lines, foreign, certificate_key(ledger.key)


def tamper(lines: list[str], foreign: list[str], rng: random.Random) -> list[str]:
    records = [i for i, line in enumerate(lines) if '"seq"' in line]
    out = list(lines)
    kind = rng.choice(
        [
            "edit",
            "signature",
            "seq",
            "delete",
            "reorder",
            "duplicate",
            "insert",
            "trailer",
            "truncate",
        ]
    )
    i = rng.choice(records)
    if kind == "edit":  # change a field of the signed payload without re-signing
        entry = json.loads(out[i])
        head, body, signature = entry["jws"].split(".")
        from terminal.signing import b64url, b64url_decode

        payload = json.loads(b64url_decode(body))
        field = rng.choice(["amount_won", "time_ms", "kind", "offline", "device_id"])
        payload[field] = {
            "amount_won": payload["amount_won"] + 1,
            "time_ms": 1,
            "kind": "refund" if payload["kind"] != "refund" else "sale",
            "offline": not payload["offline"],
            "device_id": "X",
        }[field]
        new_body = b64url(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
        out[i] = json.dumps({"seq": entry["seq"], "jws": f"{head}.{new_body}.{signature}"})
    elif kind == "signature":
        entry = json.loads(out[i])
        jws = entry["jws"]
        at = rng.randrange(len(jws) - 80, len(jws))
        entry["jws"] = jws[:at] + ("A" if jws[at] != "A" else "B") + jws[at + 1 :]
        out[i] = json.dumps(entry)
    elif kind == "seq":
        entry = json.loads(out[i])
        entry["seq"] += rng.choice([-1, 1, 5])
        out[i] = json.dumps(entry)
    elif kind == "delete":
        del out[i]
    elif kind == "reorder":
        j = rng.choice([r for r in records if r != i])
        out[i], out[j] = out[j], out[i]
    elif kind == "duplicate":
        out.insert(rng.choice(records) + 1, out[i])
    elif kind == "insert":
        out.insert(
            rng.randrange(0, len(out)),
            json.dumps({"seq": rng.randint(1, 12), "jws": rng.choice(foreign)}),
        )
    elif kind == "trailer":
        del out[-1]
    else:  # cut records off the end, keeping the end line
        out = out[: records[-1] - rng.randint(0, 3)] + out[-1:]
    return out


def test_1000_random_tamperings_are_all_detected(journal):
    lines, foreign, public_key = journal
    assert verify_export(lines, public_key) == []
    rng = random.Random(7)
    for attempt in range(1000):
        tampered = tamper(lines, foreign, rng)
        assert tampered != lines
        assert verify_export(tampered, public_key), f"attempt {attempt} went unnoticed"
