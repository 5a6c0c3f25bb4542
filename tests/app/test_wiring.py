"""The app's wiring to the sync: a code or receipt signed by a platform key the terminal lacks
asks the sync for fresh keys before it is refused; the app's own platform calls report contact."""

from __future__ import annotations

import os
import threading
import time

import pytest

from terminal.app import support
from terminal.app.support import sealed_key_name
from terminal.core.receipt import PaymentReceipt, build_receipt, sale_digest
from terminal.core.sealed import key_tag
from terminal.core.session.model import Approved, Charge, Refused
from terminal.core.tokens import CustomerToken, build_customer_token
from terminal.signing import DeviceKey, jwks_document
from terminal.sync.status import StatusBoard
from tests.app.kit import PLATFORM_KID, Kit


class RecordingSync:
    """What the app uses of a SyncWorker, recording what it is told. With `fetch`, it acts as
    a sync whose key fetch is coming: `fetch()` runs on another thread, like the sync's."""

    config = None

    def __init__(self, fetch=None):
        self.status = StatusBoard()
        self.unknown: list[str] = []
        self.wakes = 0
        self.fetch = fetch

    def start(self):
        pass

    def stop(self, timeout=None):
        pass

    def wake(self):
        self.wakes += 1

    def unknown_key(self, kid):
        self.unknown.append(kid)
        if self.fetch is None:
            return False
        threading.Thread(target=self.fetch).start()
        return True


@pytest.fixture
def kit(tmp_path):
    sync = RecordingSync()
    kit = Kit(tmp_path / "state", sync=sync)
    kit.sync = sync
    yield kit
    kit.app.shutdown()


def charge(kit, *keys):
    kit.app.press(*keys, "enter")
    return kit.app.run(
        until=lambda s: isinstance(s.screen, Charge) and s.screen.payload, timeout=10
    ).screen


ROTATED = DeviceKey.generate()  # a platform key the terminal has not fetched yet


def test_a_code_by_an_unknown_key_asks_sync_for_keys_then_is_refused(kit):
    charge(kit, "5", "00", "0")
    kit.camera.show(rotated_token(777))
    kit.app.run(until=kit.screen_is(Refused), timeout=20)
    assert kit.app.state.screen.code == "unknown_key"
    assert kit.sync.unknown == ["tag:" + key_tag("rotated-kid").hex()]
    assert kit.sales() == 0


def test_a_receipt_by_an_unknown_key_asks_sync_for_keys_then_is_refused(kit):
    screen = charge(kit, "9", "00", "0")
    receipt = PaymentReceipt(
        "IE", screen.charge_id, 9_000, int(time.time()), os.urandom(8), sale_digest(screen.payload)
    )
    kit.camera.show(build_receipt(receipt, "rotated-kid", ROTATED.sign))
    kit.app.run(until=kit.screen_is(Refused), timeout=20)
    assert kit.app.state.screen.code == "unknown_key"
    assert kit.sync.unknown == ["tag:" + key_tag("rotated-kid").hex()]


def test_a_known_key_does_not_ask(kit):
    charge(kit, "5", "00", "0")
    kit.camera.show(kit.token(4243))
    kit.app.run(until=lambda s: s.ctx.today, timeout=20)
    assert kit.sync.unknown == []


def test_sealed_key_name_of_garbage_is_not_a_kid():
    assert sealed_key_name("EU1:!!") == "tag:?"


def rotated_token(token_id: int) -> str:
    token = CustomerToken("IE", token_id, os.urandom(8), int(time.time()), 180, 50_000)
    return build_customer_token(token, "rotated-kid", ROTATED.sign)


def rotate(holder: dict) -> None:
    """The platform's rotated JWKS put in force, as the sync thread's fetch would."""
    kit = holder["kit"]
    rotated = {PLATFORM_KID: kit.platform_key.public_key, "rotated-kid": ROTATED.public_key}
    kit.app.parts.platform_keys.install(jwks_document(rotated), time.monotonic())


def test_a_code_by_a_rotated_key_is_accepted_once_the_sync_fetched_it(tmp_path):
    holder = {}

    kit = holder["kit"] = Kit(tmp_path / "state", sync=RecordingSync(lambda: rotate(holder)))
    try:
        charge(kit, "5", "00", "0")
        kit.camera.show(rotated_token(778))
        entry = kit.app.run(until=kit.screen_is(Approved), timeout=20).screen.entry
        assert (entry.token_id, entry.offline) == ("778", True) and kit.sales() == 1
    finally:
        kit.app.shutdown()


def test_when_no_new_keys_come_the_refusal_is_final_after_a_bounded_wait(tmp_path, monkeypatch):
    monkeypatch.setattr(support, "KEY_WAIT_SECONDS", 0.2)
    sync = RecordingSync(fetch=lambda: None)  # a fetch that brings nothing new
    kit = Kit(tmp_path / "state", sync=sync)
    try:
        charge(kit, "5", "00", "0")
        kit.camera.show(rotated_token(779))
        kit.app.run(until=kit.screen_is(Refused), timeout=20)
        assert kit.app.state.screen.code == "unknown_key" and len(sync.unknown) == 1
        assert kit.sales() == 0
    finally:
        kit.app.shutdown()


def test_a_receipt_by_a_rotated_key_is_accepted_once_the_sync_fetched_it(tmp_path):
    holder = {}

    kit = holder["kit"] = Kit(tmp_path / "state", sync=RecordingSync(lambda: rotate(holder)))
    try:
        screen = charge(kit, "9", "00", "0")
        receipt = PaymentReceipt("IE", screen.charge_id, 9_000, int(time.time()), os.urandom(8),
                                 sale_digest(screen.payload))  # fmt: skip
        kit.camera.show(build_receipt(receipt, "rotated-kid", ROTATED.sign))
        entry = kit.app.run(until=kit.screen_is(Approved), timeout=20).screen.entry
        assert (entry.method, entry.charge_id) == ("mpm", screen.charge_id)
    finally:
        kit.app.shutdown()
