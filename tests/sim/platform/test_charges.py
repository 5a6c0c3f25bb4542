"""MPM charges: registration bound to the device's own signed QR, long-poll woken by events
(paid / cancelled) or by expiry, cancel, idempotency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from terminal.core.receipt import verify_receipt
from terminal.signing import PlatformKeys, load_jwks
from terminal.sim.platform.charges import pay
from terminal.sim.platform.state import ISSUER
from terminal.sim.platform.wallets import open_wallet

from .conftest import make_device
from .sales import charge_body, sale_qr


def _register(device, amount=12_000, **options):
    sale, payload = sale_qr(device.key, device.device_id, amount, **options)
    answer = device.post("/v1/charges", charge_body(sale, payload))
    assert answer.status == 201, answer.body
    return sale, payload


def _when_waiting(server, charge_id: str) -> threading.Event:
    """Set when a long-poll on `charge_id` has started waiting on its event."""
    waiting = threading.Event()

    def seen(waited_for: str) -> None:
        if waited_for == charge_id:
            waiting.set()

    server.call(lambda p: p.on_wait.append(seen))
    return waiting


def _long_poll(server, device, charge_id: str, wait: int = 25):
    """Runs the long-poll on its own connection in a thread; returns the future."""
    client = device.enrolled.client(server.url, server.ca_path)
    executor = ThreadPoolExecutor(1)
    future = executor.submit(client.request, "GET", f"/v1/charges/{charge_id}?wait={wait}")
    executor.shutdown(wait=False)
    return future


def test_registering_answers_pending_and_again_the_same(server, device):
    sale, payload = _register(device)
    again = device.post("/v1/charges", charge_body(sale, payload))
    assert again.status == 200 and again.json()["status"] == "pending"
    changed = charge_body(sale, payload) | {"amount": sale.amount_won + 1}
    conflict = device.post("/v1/charges", changed)
    assert conflict.status == 409
    assert conflict.json()["type"] == "urn:qr-terminal:problem:park:idempotency_conflict"


def test_a_qr_the_device_did_not_sign_or_that_does_not_match_is_refused(server, device):
    other = make_device(server)
    sale, payload = sale_qr(other.key, device.device_id, 5_000)  # another device's key
    assert device.post("/v1/charges", charge_body(sale, payload)).status == 422
    sale, payload = sale_qr(device.key, device.device_id, 5_000)
    wrong_amount = charge_body(sale, payload) | {"amount": 4_000}
    answer = device.post("/v1/charges", wrong_amount)
    assert answer.status == 422 and answer.json()["type"].endswith("park:sale_qr_mismatch")
    sale, payload = sale_qr(device.key, other.device_id, 5_000)  # names another terminal
    assert device.post("/v1/charges", charge_body(sale, payload)).status == 422
    other.client.close()


def test_a_long_poll_returns_paid_with_a_receipt_as_soon_as_the_wallet_pays(server, device):
    sale, payload = _register(device, 12_000)
    waiting = _when_waiting(server, sale.charge_id)
    answer = _long_poll(server, device, sale.charge_id)
    assert waiting.wait(10)
    wallet = server.call(open_wallet, 100_000)
    server.call(pay, sale.charge_id, payload, wallet)
    charge = answer.result(10).json()
    assert charge["status"] == "paid" and charge["amount"] == 12_000
    keys = PlatformKeys(load_jwks(device.get("/v1/keys").json()))
    receipt = verify_receipt(
        charge["receipt"],
        keys.check_tagged,
        sale_payload=payload,
        charge_id=sale.charge_id,
        amount_won=12_000,
        expected_issuer=ISSUER,
    )
    assert receipt.charge_id == sale.charge_id
    assert charge["benefits"]["total_won"] == 12_000 * (1000 + 100) // 10_000


def test_a_long_poll_returns_cancelled_when_the_terminal_cancels(server, device):
    sale, _ = _register(device)
    waiting = _when_waiting(server, sale.charge_id)
    answer = _long_poll(server, device, sale.charge_id)
    assert waiting.wait(10)
    cancelled = device.post(f"/v1/charges/{sale.charge_id}/cancel")
    assert cancelled.status == 200 and cancelled.json()["status"] == "cancelled"
    assert answer.result(10).json()["status"] == "cancelled"
    again = device.post(f"/v1/charges/{sale.charge_id}/cancel")
    assert again.json()["status"] == "cancelled"


def test_a_long_poll_returns_expired_when_the_charge_expires(server, device):
    sale, _ = _register(device, expires_in=2)  # at least a second left when it is registered
    answer = _long_poll(server, device, sale.charge_id, wait=20)
    assert answer.result(10).json()["status"] == "expired"


def test_a_long_poll_that_runs_out_answers_pending(server, device):
    sale, _ = _register(device)
    assert device.get(f"/v1/charges/{sale.charge_id}?wait=1").json()["status"] == "pending"
    assert device.get(f"/v1/charges/{sale.charge_id}").json()["status"] == "pending"


def test_cancelling_a_paid_charge_is_409_already_paid(server, device):
    sale, payload = _register(device, 3_000)
    server.call(pay, sale.charge_id, payload, server.call(open_wallet, 10_000))
    answer = device.post(f"/v1/charges/{sale.charge_id}/cancel")
    assert answer.status == 409
    assert answer.json()["type"] == "urn:qr-terminal:problem:show:already_paid"


def test_another_devices_charge_does_not_exist_for_this_one(server, device):
    sale, _ = _register(device)
    other = make_device(server)
    assert other.get(f"/v1/charges/{sale.charge_id}").status == 404
    assert other.post(f"/v1/charges/{sale.charge_id}/cancel").status == 404
    other.client.close()


def test_wait_beyond_25_seconds_is_a_400(server, device):
    sale, _ = _register(device)
    answer = device.get(f"/v1/charges/{sale.charge_id}?wait=26")
    assert answer.status == 400 and "wait" in answer.json()["detail"]
