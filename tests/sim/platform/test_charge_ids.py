"""Charge ids are keyed per device (review finding 5): a device that copies another terminal's
charge id out of its sale QR and registers it first neither blocks that terminal's charge nor
gets paid in its place."""

from __future__ import annotations

import dataclasses

from terminal.core.sale_qr import build_sale_qr
from terminal.sim.platform.charges import pay
from terminal.sim.platform.wallets import balance, open_wallet

from .conftest import make_device
from .sales import charge_body, sale_qr


def test_a_charge_id_squatted_by_another_device_does_not_block_or_divert_the_genuine_one(server):
    victim, squatter = make_device(server, "SERIAL-V"), make_device(server, "SERIAL-S")
    sale, payload = sale_qr(victim.key, victim.device_id, 7_000)
    # The squatter signs its own QR (its terminal id, its key) with the victim's charge id.
    copy = dataclasses.replace(
        sale,
        terminal_id=squatter.device_id,
        terminal_label=squatter.device_id,
        key_id=squatter.key.kid,
    )
    squatted = squatter.post(
        "/v1/charges", charge_body(copy, build_sale_qr(copy, squatter.key.sign))
    )
    assert squatted.status == 201
    genuine = victim.post("/v1/charges", charge_body(sale, payload))
    assert genuine.status == 201 and genuine.json()["status"] == "pending"
    wallet = server.call(open_wallet, 50_000)
    assert server.call(pay, sale.charge_id, payload, wallet).startswith("ER1:")
    assert victim.get(f"/v1/charges/{sale.charge_id}").json()["status"] == "paid"
    assert squatter.get(f"/v1/charges/{sale.charge_id}").json()["status"] == "pending"
    assert server.call(balance, wallet) == 50_000 - 7_000 + 770
    victim.client.close()
    squatter.client.close()
