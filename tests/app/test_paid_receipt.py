"""An online "paid" for an MPM charge is believed only with the platform's signed receipt for
that very sale (security review: online MPM sales were recorded on the status alone)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from terminal.core.receipt import PaymentReceipt, build_receipt, sale_digest
from terminal.core.session.model import Approved, Charge
from terminal.signing import DeviceKey
from terminal.sync.answers import Charge as ChargeAnswer
from tests.app.kit import PLATFORM_KID, Kit


class Platform:
    """A platform client whose long-poll answers "paid" with the receipt `sign` makes."""

    def __init__(self, receipt_for):
        self.receipt_for = receipt_for
        self.registered: dict[str, tuple[int, str]] = {}
        self.answered = threading.Event()

    def register_charge(self, charge_id, amount, expires_ms, payload):
        self.registered[charge_id] = (amount, payload)

    def charge_status(self, charge_id, wait):
        amount, payload = self.registered[charge_id]
        self.answered.set()
        return ChargeAnswer(
            charge_id, "paid", amount, 0, self.receipt_for(charge_id, amount, payload)
        )

    def cancel_charge(self, charge_id):
        pass


def kit_with(tmp_path, receipt_for) -> tuple[Kit, Platform]:
    platform = Platform(receipt_for)
    kit = Kit(tmp_path / "state", client_factory=lambda: platform)
    return kit, platform


def ring_up(kit: Kit) -> Charge:
    kit.app.press("9", "00", "0", "enter")
    return kit.app.run(
        until=lambda s: isinstance(s.screen, Charge) and bool(s.screen.payload), timeout=60
    ).screen


def test_paid_with_the_platforms_receipt_is_approved(tmp_path):
    kit, _platform = kit_with(tmp_path, lambda *sale: kit.receipt(*sale))
    try:
        # The charge screen may pass within one turn (the fake platform answers at once).
        kit.app.press("9", "00", "0", "enter")
        kit.app.run(until=kit.screen_is(Approved), timeout=60)
        assert kit.app.state.screen.entry.offline is False and kit.sales() == 1
    finally:
        kit.app.shutdown()


@pytest.mark.parametrize("forgery", ["no receipt", "another key", "another sale"])
def test_paid_without_a_valid_receipt_records_nothing(tmp_path, forgery):
    stranger = DeviceKey.generate()

    def receipt_for(charge_id, amount, payload):
        if forgery == "no receipt":
            return None
        if forgery == "another sale":
            return kit.receipt(charge_id, amount, payload + "x")
        # The receipt the platform would give, signed by a key the terminal does not trust.
        receipt = PaymentReceipt(
            "IE", charge_id, amount, int(time.time()), os.urandom(8), sale_digest(payload)
        )
        return build_receipt(receipt, PLATFORM_KID, stranger.sign)

    kit, platform = kit_with(tmp_path, receipt_for)
    try:
        ring_up(kit)
        assert platform.answered.wait(60)
        kit.idle(1.0)  # time enough for a believed "paid" to become an approval
        assert isinstance(kit.app.state.screen, Charge) and kit.sales() == 0
    finally:
        kit.app.shutdown()
