"""Offline CPM sales are settled at upload (review finding 2): the token is checked against what
the platform issued, the wallet is debited once and the token marked used; a token spent
already (online anywhere, or offline in an earlier record) is stored but flagged and counted."""

from __future__ import annotations

import json
import os
import time
import urllib.request

from terminal.core.ids import uuid7
from terminal.sim.platform.settlement import flagged
from terminal.sim.platform.wallets import OFFLINE_CAP_WON, balance, issue_token, open_wallet

from .chain import Chain
from .conftest import make_device


def _authorize(device, token: str, amount: int) -> dict:
    txn = str(uuid7(int(time.time() * 1000), os.urandom(10)))
    body = {"transaction_id": txn, "token": token, "format": "qr", "amount": amount}
    return device.post("/v1/authorizations", body).json()


def _used_by(server, token_id: int) -> str | None:
    return server.call(
        lambda p: p.db.execute(
            "SELECT used_by FROM tokens WHERE token_id = ?", (token_id,)
        ).fetchone()[0]
    )


def test_an_offline_sale_debits_the_wallet_once_and_uses_the_token(server, device):
    wallet = server.call(open_wallet, 100_000)
    token = server.call(issue_token, wallet)
    chain = Chain(device)
    sale = chain.offline_sale(token.token_id, 20_000)
    [result] = chain.upload(sale)
    assert result["status"] == "accepted" and "flag" not in result
    assert server.call(balance, wallet) == 100_000 - 20_000 + 2_200  # with its cashback
    assert _used_by(server, token.token_id) == sale["id"]
    [again] = chain.upload(sale)  # a lost reply's retry: settled once
    assert again["status"] == "duplicate" and "flag" not in again
    assert server.call(balance, wallet) == 100_000 - 20_000 + 2_200
    # The token is spent: the customer cannot pay with it online afterwards.
    assert _authorize(device, token.qr_text, 1_000)["reason"] == "token_used"


def test_a_token_used_online_then_offline_at_two_terminals_is_stored_flagged_and_counted(server):
    """The review's PoC 12: online at A, then offline at B and C (each under the cap)."""
    a, b, c = (make_device(server, f"SERIAL-{name}") for name in "ABC")
    wallet = server.call(open_wallet, 100_000)
    token = server.call(issue_token, wallet)
    assert _authorize(a, token.qr_text, 20_000)["status"] == "approved"
    paid_online = server.call(balance, wallet)
    results = {}
    for name, terminal in (("B", b), ("C", c)):
        chain = Chain(terminal)
        sale = chain.offline_sale(token.token_id, 40_000)
        [results[name]] = chain.upload(sale)
        # A retry of the same upload keeps saying so.
        assert chain.upload(sale)[0]["flag"] == "token_reused"
    for result in results.values():  # never refused: the merchant was told "approved"
        assert (result["status"], result["flag"]) == ("accepted", "token_reused")
    assert server.call(balance, wallet) == paid_online  # nobody debited twice
    for terminal in (b, c):
        view = server.call(flagged, terminal.device_id)
        assert view["counts"] == {"token_reused": 1}
        assert view["sales"][0]["amount"] == 40_000
    assert server.call(flagged)["counts"]["token_reused"] >= 2
    for terminal in (a, b, c):
        terminal.client.close()


def test_the_same_token_in_two_offline_records_settles_the_first_and_flags_the_second(server):
    a, b = make_device(server, "SERIAL-D"), make_device(server, "SERIAL-E")
    wallet = server.call(open_wallet, 100_000)
    token = server.call(issue_token, wallet)
    chain_a, chain_b = Chain(a), Chain(b)
    first = chain_a.upload(chain_a.offline_sale(token.token_id, 10_000))[0]
    assert "flag" not in first
    second = chain_b.upload(chain_b.offline_sale(token.token_id, 10_000))[0]
    assert (second["status"], second["flag"]) == ("accepted", "token_reused")
    assert server.call(balance, wallet) == 100_000 - 10_000 + 1_100
    a.client.close()
    b.client.close()


def test_offline_sales_the_platform_cannot_settle_are_stored_and_flagged(server, device):
    wallet = server.call(open_wallet, 30_000)
    chain = Chain(device)
    expired = server.call(issue_token, wallet)
    late = (expired.expires_at + 1) * 1000
    over_cap = server.call(issue_token, wallet)
    poor = server.call(issue_token, server.call(open_wallet, 100))
    cases = [
        (chain.offline_sale(999, 1_000), "unknown_token"),
        (chain.offline_sale("not-a-number", 1_000), "unknown_token"),
        (chain.offline_sale(expired.token_id, 1_000, time_ms=late), "token_expired"),
        (chain.offline_sale(over_cap.token_id, OFFLINE_CAP_WON + 1), "over_offline_cap"),
        (chain.offline_sale(poor.token_id, 1_000), "insufficient_funds"),
    ]
    results = chain.upload(*(sale for sale, _ in cases))
    assert [(r["status"], r.get("flag")) for r in results] == [
        ("accepted", flag) for _, flag in cases
    ]
    assert server.call(balance, wallet) == 30_000  # nothing debited for any of them
    assert server.call(flagged, device.device_id)["counts"] == {
        "unknown_token": 2,
        "token_expired": 1,
        "over_offline_cap": 1,
        "insufficient_funds": 1,
    }


def test_online_sales_and_mpm_records_are_not_settled_again(server, device):
    wallet = server.call(open_wallet, 100_000)
    token = server.call(issue_token, wallet)
    answer = _authorize(device, token.qr_text, 10_000)
    chain = Chain(device)
    online = chain.record(
        txn_id=answer["transaction_id"],
        amount_won=10_000,
        offline=False,
        refs={"token_id": str(token.token_id)},
    )
    [result] = chain.upload(online)
    assert result["status"] == "accepted" and "flag" not in result
    assert server.call(balance, wallet) == 100_000 - 10_000 + 1_100
    assert server.call(flagged, device.device_id)["counts"] == {}


def test_the_operator_reads_the_flagged_sales_from_the_admin_port(server, device):
    chain = Chain(device)
    [result] = chain.upload(chain.offline_sale(123, 2_000))
    assert result["flag"] == "unknown_token"
    with urllib.request.urlopen(server.admin_url + "/admin/flagged", timeout=10) as answer:
        everything = json.loads(answer.read())
    with urllib.request.urlopen(
        server.admin_url + f"/admin/devices/{device.device_id}", timeout=10
    ) as answer:
        mine = json.loads(answer.read())["flagged"]
    assert mine["counts"] == {"unknown_token": 1}
    assert mine["sales"] == [
        {
            "device_id": device.device_id,
            "txn_id": result["id"],
            "token_id": "123",
            "amount": 2_000,
            "flag": "unknown_token",
        }
    ]
    assert mine["sales"][0] in everything["sales"]
