"""CPM authorizations (idempotent by transaction id, one transaction per token, QR and barcode)
and refunds (bounded by what remains, idempotent by refund id)."""

from __future__ import annotations

import os
import time
import uuid

from terminal.core.ids import uuid7
from terminal.core.tokens import CustomerToken, build_customer_token, customer_barcode
from terminal.signing import DeviceKey
from terminal.sim.platform.bench import signed_records
from terminal.sim.platform.wallets import balance, issue_token, open_wallet


def _txn() -> str:
    return str(uuid7(int(time.time() * 1000), os.urandom(10)))


def _authorize(device, token: str, amount: int, form: str = "qr", txn: str | None = None):
    body = {"transaction_id": txn or _txn(), "token": token, "format": form, "amount": amount}
    answer = device.post("/v1/authorizations", body)
    return answer, body


def test_a_qr_token_is_approved_with_benefits_and_the_wallet_is_debited(server, device):
    wallet = server.call(open_wallet, 50_000)
    token = server.call(issue_token, wallet)
    answer, _ = _authorize(device, token.qr_text, 10_000)
    assert answer.status == 200
    body = answer.json()
    assert body["status"] == "approved" and len(body["approval_number"]) == 8
    assert body["benefits"] == {
        "city_won": 1_000,
        "district_won": 0,
        "merchant_won": 100,
        "total_won": 1_100,
    }
    assert body["token_id"] == str(token.token_id)
    assert server.call(balance, wallet) == 50_000 - 10_000 + 1_100


def test_a_retry_gets_the_first_answer_and_never_charges_twice(server, device):
    wallet = server.call(open_wallet, 50_000)
    token = server.call(issue_token, wallet)
    first, body = _authorize(device, token.qr_text, 20_000)
    for _ in range(3):
        again = device.post("/v1/authorizations", body)
        assert again.json() == first.json()
    assert server.call(balance, wallet) == 50_000 - 20_000 + 2_200
    changed = device.post("/v1/authorizations", body | {"amount": 20_001})
    assert changed.status == 409
    assert changed.json()["type"] == "urn:qr-terminal:problem:park:idempotency_conflict"


def test_a_token_pays_for_one_transaction_only(server, device):
    token = server.call(issue_token, server.call(open_wallet, 50_000))
    assert _authorize(device, token.qr_text, 1_000)[0].json()["status"] == "approved"
    second = _authorize(device, token.qr_text, 1_000)[0].json()
    assert (second["status"], second["reason"]) == ("declined", "token_used")


def test_the_numeric_barcode_of_a_token_is_authorized_online(server, device):
    token = server.call(issue_token, server.call(open_wallet, 50_000))
    answer = _authorize(device, token.barcode_text, 3_000, form="code128")[0].json()
    assert answer["status"] == "approved" and answer["token_id"] == str(token.token_id)
    unknown = customer_barcode(12_345)
    declined = _authorize(device, unknown, 3_000, form="code128")[0].json()
    assert (declined["status"], declined["reason"]) == ("declined", "unknown_token")
    bad_digit = token.barcode_text[:-1] + str((int(token.barcode_text[-1]) + 1) % 10)
    declined = _authorize(device, bad_digit, 3_000, form="code128")[0].json()
    assert declined["reason"] == "bad_check_digit"


def test_forged_expired_and_unfunded_tokens_are_declined_with_a_reason(server, device, moving_time):
    forger = DeviceKey.generate()
    fake = CustomerToken("IE", 77, os.urandom(8), int(time.time()), 180, 50_000)
    forged = build_customer_token(fake, forger.kid, forger.sign)
    assert _authorize(device, forged, 1_000)[0].json()["reason"] == "unknown_key"
    poor = server.call(issue_token, server.call(open_wallet, 500))
    assert _authorize(device, poor.qr_text, 1_000)[0].json()["reason"] == "insufficient_funds"
    old = server.call(issue_token, server.call(open_wallet, 50_000))
    moving_time.offset = 181
    try:
        assert _authorize(device, old.qr_text, 1_000)[0].json()["reason"] == "expired"
        barcode = _authorize(device, old.barcode_text, 1_000, form="code128")[0].json()
        assert barcode["reason"] == "expired"
    finally:
        moving_time.offset = 0
    assert _authorize(device, "EU1:NOT-A-TOKEN", 1_000)[0].json()["reason"] == "malformed"


def _refund(device, original: str, amount: int, refund_id: str | None = None):
    body = {
        "refund_id": refund_id or str(uuid.uuid4()),
        "original_transaction_id": original,
        "amount": amount,
    }
    return device.post("/v1/refunds", body), body


def test_refunds_are_bounded_by_what_remains_and_give_the_money_back(server, device):
    wallet = server.call(open_wallet, 100_000)
    token = server.call(issue_token, wallet)
    approved, auth = _authorize(device, token.qr_text, 10_000)
    assert approved.json()["status"] == "approved"
    after_sale = server.call(balance, wallet)
    first = _refund(device, auth["transaction_id"], 4_000)[0].json()
    assert (first["status"], first["remaining"]) == ("approved", 6_000)
    assert first["benefits"]["total_won"] == -440
    too_much = _refund(device, auth["transaction_id"], 6_001)[0].json()
    assert (too_much["status"], too_much["reason"], too_much["remaining"]) == (
        "declined",
        "exceeds_remaining",
        6_000,
    )
    rest = _refund(device, auth["transaction_id"], 6_000)[0].json()
    assert (rest["status"], rest["remaining"]) == ("approved", 0)
    assert server.call(balance, wallet) == after_sale + 10_000 - 1_100
    assert _refund(device, auth["transaction_id"], 1)[0].json()["status"] == "declined"


def test_a_refund_retry_gets_the_first_answer_and_refunds_once(server, device):
    token = server.call(issue_token, server.call(open_wallet, 100_000))
    _, auth = _authorize(device, token.qr_text, 10_000)
    first, body = _refund(device, auth["transaction_id"], 7_000)
    again = device.post("/v1/refunds", body)
    assert again.json() == first.json()
    other = _refund(device, auth["transaction_id"], 3_000)[0].json()
    assert (other["status"], other["remaining"]) == ("approved", 0)
    changed = device.post("/v1/refunds", body | {"amount": 1})
    assert changed.status == 409


def test_an_uploaded_sale_can_be_refunded_and_an_unknown_one_cannot(server, device):
    records = signed_records(device.key, device.device_id, 1, amount=8_000)
    device.post(
        "/v1/transactions", {"records": [{"id": records[0]["id"], "jws": records[0]["jws"]}]}
    )
    answer = _refund(device, records[0]["id"], 8_000)[0].json()
    assert (answer["status"], answer["remaining"]) == ("approved", 0)
    missing = _refund(device, _txn(), 100)[0]
    assert missing.status == 404
    assert missing.json()["type"] == "urn:qr-terminal:problem:park:not_found"
