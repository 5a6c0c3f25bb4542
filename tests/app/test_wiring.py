"""The app's wiring to the sync: a code or receipt signed by a platform key the terminal lacks
asks the sync for fresh keys before it is refused; the app's own platform calls report contact."""

from __future__ import annotations

import os
import time

import pytest

from terminal.app_effects import sealed_key_name
from terminal.core.receipt import PaymentReceipt, build_receipt, sale_digest
from terminal.core.sealed import key_tag
from terminal.core.session.model import Charge, Refused
from terminal.core.tokens import CustomerToken, build_customer_token
from terminal.signing import DeviceKey
from terminal.sync.status import StatusBoard
from tests.app.kit import Kit


class RecordingSync:
    """What the app uses of a SyncWorker, recording what it is told."""

    config = None

    def __init__(self):
        self.status = StatusBoard()
        self.unknown: list[str] = []
        self.wakes = 0

    def start(self):
        pass

    def stop(self, timeout=None):
        pass

    def wake(self):
        self.wakes += 1

    def unknown_key(self, kid):
        self.unknown.append(kid)


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
    token = CustomerToken("IE", 777, os.urandom(8), int(time.time()), 180, 50_000)
    kit.camera.show(build_customer_token(token, "rotated-kid", ROTATED.sign))
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
