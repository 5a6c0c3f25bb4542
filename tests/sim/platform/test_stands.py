"""Payments to a shop's printed QR stand (고정형): the wallet checks the stand's signature with
the key the platform bound to its merchant and terminal and pays the amount typed; the terminal
fetches them since a cursor (GET /v1/stand-payments, its own only); the sale it uploads for a
payment is that payment's one record, and a refund of it goes back to the customer's wallet."""

from __future__ import annotations

import pytest

from terminal.core.records import GENESIS_HASH, Record
from terminal.core.session.stand import Stand, build_stand_qr
from terminal.sim.platform import wallets
from terminal.sim.wallet import AdminLink, InProcessLink, Wallet, WalletRefusal

from .conftest import make_device
from .sales import MERCHANT


def stand_qr(key, terminal_id: str, serial: int = 1, merchant_id: str = MERCHANT) -> str:
    stand = Stand(
        "kr.incheon.eeum", merchant_id, terminal_id, "5812", "HYETAEK PLUS BUNSIK", "INCHEON",
        "혜택플러스 분식", "인천", serial, key.kid,
    )  # fmt: skip
    return build_stand_qr(stand, key.sign)


def test_a_stand_payment_reaches_its_terminal_after_the_cursor(server, device):
    wallet = Wallet.open(InProcessLink(server), 50_000)
    paid = wallet.pay_stand(stand_qr(device.key, device.device_id, serial=3), 7_000)
    assert paid.stand.reference == "STAND-000003" and paid.amount_won == 7_000
    page = device.get("/v1/stand-payments?after=0").json()
    (payment,) = page["payments"]
    assert payment["payment_id"] == paid.payment_id and payment["stand"] == "STAND-000003"
    assert payment["amount"] == 7_000 and page["next_cursor"] == payment["cursor"]
    assert payment["benefits"]["total_won"] > 0  # cashback as for any payment
    assert device.get(f"/v1/stand-payments?after={page['next_cursor']}").json() == {
        "payments": [],
        "next_cursor": page["next_cursor"],
    }
    assert (
        server.call(wallets.balance, wallet.wallet_ref)
        == 50_000 - 7_000 + (payment["benefits"]["total_won"])
    )


def test_another_terminal_never_sees_the_payment(server, device):
    other = make_device(server, "SERIAL-OTHER")
    Wallet.open(InProcessLink(server), 50_000).pay_stand(stand_qr(device.key, device.device_id), 1)
    assert other.get("/v1/stand-payments").json()["payments"] == []
    other.client.close()


def test_a_stand_signed_by_another_terminal_or_for_another_shop_is_refused(server, device):
    fraudster = make_device(server, "SERIAL-F")
    wallet = Wallet.open(InProcessLink(server), 50_000)
    for payload in (
        stand_qr(fraudster.key, device.device_id),  # names the victim's terminal
        stand_qr(device.key, device.device_id, merchant_id="M9999999999"),
    ):
        with pytest.raises(WalletRefusal) as refused:
            wallet.pay_stand(payload, 5_000)
        assert refused.value.reason == "swapped"
    assert device.get("/v1/stand-payments").json()["payments"] == []
    fraudster.client.close()


def test_the_platform_itself_refuses_what_the_wallet_should_not_pay(server, device):
    link, payload = InProcessLink(server), stand_qr(device.key, device.device_id)
    poor = link.open_wallet(1_000)
    for amount, reason in ((0, "bad_amount"), (1.5, "bad_amount"), (2_000, "insufficient_funds")):
        with pytest.raises(WalletRefusal) as refused:
            link.pay_stand(payload, amount, poor)
        assert refused.value.reason == reason
    with pytest.raises(WalletRefusal) as refused:
        link.pay_stand(payload.replace("STAND-000001", "STAND-000002"), 500, poor)
    assert refused.value.reason in ("malformed", "bad_signature")


def test_the_admin_link_pays_a_stand_from_another_process(server, device):
    wallet = Wallet.open(AdminLink(server.admin_url), 50_000)
    paid = wallet.pay_stand(stand_qr(device.key, device.device_id), 2_500)
    ids = [p["payment_id"] for p in device.get("/v1/stand-payments").json()["payments"]]
    assert paid.payment_id in ids
    with pytest.raises(WalletRefusal) as refused:
        wallet.pay_stand(stand_qr(device.key, device.device_id), 10**8)
    assert refused.value.reason == "insufficient_funds"


def _record(device, txn_id: str, amount: int, stand: str) -> dict:
    record = Record(
        txn_id=txn_id, device_id=device.device_id, seq=1, prev_hash=GENESIS_HASH, kind="sale",
        method="mpm", amount_won=amount, benefits={}, refs={"charge_id": stand},
        time_ms=1_700_000_000_000, clock_synced=True, offline=False,
    )  # fmt: skip
    return {"id": txn_id, "jws": device.key.jws(record.canonical())}


def test_the_uploaded_sale_is_the_payments_one_record_and_its_refund_pays_back(server, device):
    wallet = Wallet.open(InProcessLink(server), 50_000)
    paid = wallet.pay_stand(stand_qr(device.key, device.device_id), 6_000)
    wrong = _record(device, paid.payment_id, 6_500, "STAND-000001")
    (result,) = device.post("/v1/transactions", {"records": [wrong]}).json()["results"]
    assert (result["status"], result["reason"]) == ("rejected", "stand_mismatch")
    right = _record(device, paid.payment_id, 6_000, "STAND-000001")
    for expected in ("accepted", "duplicate"):
        (result,) = device.post("/v1/transactions", {"records": [right]}).json()["results"]
        assert result["status"] == expected
    before = server.call(wallets.balance, wallet.wallet_ref)
    body = {"refund_id": "0190f0f0-0000-7000-8000-000000000001",
            "original_transaction_id": paid.payment_id, "amount": 6_000}  # fmt: skip
    answer = device.post("/v1/refunds", body).json()
    assert answer["status"] == "approved" and answer["remaining"] == 0
    assert server.call(wallets.balance, wallet.wallet_ref) > before + 5_000
