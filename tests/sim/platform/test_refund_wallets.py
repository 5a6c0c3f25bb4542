"""Refunds credit the wallet that paid, exactly, less the reversed cashback (review finding 3):
an MPM sale through the paid charge its record names, an offline CPM sale through its
settlement; two records naming one charge share that charge's one refund budget."""

from __future__ import annotations

import uuid

from terminal.sim.platform.charges import pay
from terminal.sim.platform.wallets import balance, issue_token, open_wallet

from .chain import Chain
from .sales import charge_body, sale_qr


def _refund(device, original: str, amount: int) -> dict:
    body = {"refund_id": str(uuid.uuid4()), "original_transaction_id": original, "amount": amount}
    answer = device.post("/v1/refunds", body)
    assert answer.status == 200, answer.body
    return answer.json()


def _paid_mpm_sale(server, device, wallet: str, amount: int) -> str:
    """A charge registered, paid by `wallet`, and the terminal's sale record for it uploaded."""
    sale, payload = sale_qr(device.key, device.device_id, amount)
    assert device.post("/v1/charges", charge_body(sale, payload)).status == 201
    server.call(pay, sale.charge_id, payload, wallet)
    return sale.charge_id


def test_a_full_refund_of_an_mpm_sale_gives_the_wallet_back_what_it_paid(server, device):
    wallet = server.call(open_wallet, 100_000)
    before = server.call(balance, wallet)
    charge_id = _paid_mpm_sale(server, device, wallet, 20_000)
    assert server.call(balance, wallet) == before - 20_000 + 2_200
    chain = Chain(device)
    record = chain.record(
        method="mpm", offline=False, amount_won=20_000, refs={"charge_id": charge_id}
    )
    assert chain.upload(record)[0]["status"] == "accepted"
    first = _refund(device, record["id"], 5_000)
    assert (first["status"], first["remaining"], first["benefits"]["total_won"]) == (
        "approved",
        15_000,
        -550,
    )
    assert server.call(balance, wallet) == before - 20_000 + 2_200 + 5_000 - 550
    rest = _refund(device, record["id"], 15_000)
    assert (rest["status"], rest["remaining"]) == ("approved", 0)
    assert server.call(balance, wallet) == before  # every won back, the cashback taken back


def test_two_records_naming_one_paid_charge_share_one_refund_budget(server, device):
    wallet = server.call(open_wallet, 100_000)
    charge_id = _paid_mpm_sale(server, device, wallet, 10_000)
    chain = Chain(device)
    fields = {"method": "mpm", "offline": False, "amount_won": 10_000}
    first = chain.record(refs={"charge_id": charge_id}, **fields)
    second = chain.record(refs={"charge_id": charge_id}, **fields)
    chain.upload(first, second)
    assert _refund(device, first["id"], 10_000)["status"] == "approved"
    again = _refund(device, second["id"], 10_000)
    assert (again["status"], again["reason"]) == ("declined", "exceeds_remaining")


def test_a_refund_of_a_settled_offline_sale_credits_its_wallet(server, device):
    wallet = server.call(open_wallet, 100_000)
    token = server.call(issue_token, wallet)
    chain = Chain(device)
    sale = chain.offline_sale(token.token_id, 30_000)
    assert "flag" not in chain.upload(sale)[0]
    assert server.call(balance, wallet) == 100_000 - 30_000 + 3_300
    assert _refund(device, sale["id"], 30_000)["status"] == "approved"
    assert server.call(balance, wallet) == 100_000
