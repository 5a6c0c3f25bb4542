"""The simulated wallet reads the terminal's screen with zxing-cpp, checks the QR with the key
the platform bound to that merchant and terminal, refuses swapped, re-priced and expired QRs,
pays genuine ones, and shows its tokens as QR and Code128 that a decoder reads back."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp

from terminal.core import emv
from terminal.core.emv import DataObject
from terminal.core.sale_qr import read_sale_qr
from terminal.signing import DeviceKey
from terminal.sim.wallet import AdminLink, InProcessLink, Wallet, WalletRefusal, read_screen
from terminal.ui.screens import sale_qr_screen

from .conftest import make_device
from .sales import charge_body, sale_qr


def _screen(payload: str, amount: int):
    return sale_qr_screen(payload, amount, "인천e음", "#00A0E9", (480, 320))


def _shown(device, amount: int = 9_000, **options):
    sale, payload = sale_qr(device.key, device.device_id, amount, **options)
    assert device.post("/v1/charges", charge_body(sale, payload)).status == 201
    return sale, payload


def test_the_wallet_pays_the_qr_it_reads_off_the_terminal_screen(server, device):
    sale, payload = _shown(device, 9_000)
    wallet = Wallet.open(InProcessLink(server), 50_000)
    payment = wallet.pay_screen(_screen(payload, 9_000))
    assert payment.sale.charge_id == sale.charge_id and payment.receipt.startswith("ER1:")
    charge = device.get(f"/v1/charges/{sale.charge_id}").json()
    assert charge["status"] == "paid" and charge["receipt"] == payment.receipt


def test_a_qr_signed_by_another_terminal_for_this_one_is_refused_as_swapped(server, device):
    fraudster = make_device(server)
    _, forged = sale_qr(fraudster.key, device.device_id, 9_000)  # names the victim's terminal
    wallet = Wallet.open(InProcessLink(server), 50_000)
    with pytest.raises(WalletRefusal) as refused:
        wallet.pay_screen(_screen(forged, 9_000))
    assert refused.value.reason == "swapped"
    _, other_shop = sale_qr(device.key, device.device_id, 9_000, merchant_id="M9999999999")
    with pytest.raises(WalletRefusal) as refused:
        wallet.check(other_shop)
    assert refused.value.reason == "swapped"
    fraudster.client.close()


def test_a_re_priced_qr_is_refused_before_paying(server, device):
    sale, payload = _shown(device, 9_000)
    objects = emv.parse(payload)
    cheaper = tuple(DataObject("54", "900") if o.id == "54" else o for o in objects if o.id != "63")
    repriced = emv.encode(cheaper)  # a fresh CRC: only the signature can tell
    wallet = Wallet.open(InProcessLink(server), 50_000)
    with pytest.raises(WalletRefusal) as refused:
        wallet.pay_payload(repriced)
    assert refused.value.reason == "re-priced"
    assert device.get(f"/v1/charges/{sale.charge_id}").json()["status"] == "pending"


def test_an_expired_qr_is_refused(server, device):
    sale, payload = _shown(device, 9_000)
    link = InProcessLink(server)
    late = Wallet(link, link.open_wallet(50_000), now=lambda: sale.expires_at + 1)
    with pytest.raises(WalletRefusal) as refused:
        late.pay_payload(payload)
    assert refused.value.reason == "expired"


def test_a_screen_without_a_code_is_refused(server):
    wallet = Wallet.open(InProcessLink(server), 1_000)
    blank = np.full((320, 480), 255, np.uint8)
    with pytest.raises(WalletRefusal) as refused:
        wallet.pay_screen(blank)
    assert refused.value.reason == "no_code"


def test_the_platform_refuses_a_payment_the_wallet_cannot_afford(server, device):
    _, payload = _shown(device, 9_000)
    poor = Wallet.open(InProcessLink(server), 100)
    with pytest.raises(WalletRefusal) as refused:
        poor.pay_payload(payload)
    assert refused.value.reason == "insufficient_funds"


def test_tokens_show_as_qr_and_code128_that_decode_and_authorize(server, device):
    wallet = Wallet.open(InProcessLink(server), 50_000)
    token = wallet.token()
    assert read_screen(token.qr_image()) == [token.qr_text]
    bars = zxingcpp.read_barcodes(token.barcode_image(), formats=zxingcpp.BarcodeFormat.Code128)
    assert [b.text for b in bars] == [token.barcode_text]
    answer = device.post(
        "/v1/authorizations",
        {
            "transaction_id": "01890000-0000-7000-8000-000000000001",
            "token": token.barcode_text,
            "format": "code128",
            "amount": 5_000,
        },
    )
    assert answer.json()["status"] == "approved"


def test_the_admin_link_does_the_same_from_another_process(server, device):
    sale, payload = _shown(device, 4_000)
    wallet = Wallet.open(AdminLink(server.admin_url), 50_000)
    payment = wallet.pay_screen(_screen(payload, 4_000))
    assert payment.sale.charge_id == sale.charge_id
    assert device.get(f"/v1/charges/{sale.charge_id}").json()["status"] == "paid"
    token = wallet.token()
    assert token.qr_text.startswith("EU1:") and token.barcode_text.isdigit()
    with pytest.raises(WalletRefusal) as refused:
        wallet.pay_payload(payload)  # paid already
    assert refused.value.reason == "paid"


def test_a_qr_the_offline_terminal_never_registered_is_paid_from_its_signature(server, device):
    sale, payload = sale_qr(device.key, device.device_id, 6_000)  # shown, never registered
    wallet = Wallet.open(InProcessLink(server), 50_000)
    payment = wallet.pay_payload(payload)
    assert payment.sale.charge_id == sale.charge_id
    # The terminal, back online, registers it: the answer says it was paid.
    late = device.post("/v1/charges", charge_body(sale, payload))
    assert late.status == 200 and late.json()["status"] == "paid"
    assert late.json()["receipt"] == payment.receipt


def test_an_unregistered_qr_of_an_unknown_terminal_is_not_paid(server, device):
    stranger = DeviceKey.generate()
    _, forged = sale_qr(stranger, "SIM-NOBODY", 6_000)
    link = InProcessLink(server)
    with pytest.raises(WalletRefusal) as refused:
        Wallet.open(link, 50_000).pay_payload(forged)  # the wallet's own check refuses first
    assert refused.value.reason == "swapped"
    with pytest.raises(WalletRefusal) as refused:
        link.pay(read_sale_qr(forged)[0].charge_id, forged, link.open_wallet(50_000))
    assert refused.value.reason == "unknown_charge"
