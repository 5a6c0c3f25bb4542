"""The app on fakes: keys and camera in, frames, sounds, paper and ledger records out."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import zxingcpp

from terminal.app.errors import AppError
from terminal.app.loop import CLOSE_REQUEST
from terminal.app.notify import Notifier
from terminal.app.settings import session_config
from terminal.core.session.commands import PrintReceipt
from terminal.core.session.model import Approved, Charge, Home, Refused
from terminal.hw.feedback import Signal
from tests.app.kit import Kit, kit_config


@pytest.fixture
def kit(tmp_path):
    kit = Kit(tmp_path / "state")
    yield kit
    kit.app.shutdown()


def decoded(image) -> list[str]:
    return [c.text for c in zxingcpp.read_barcodes(np.asarray(image.convert("L")))]


def charge(kit: Kit, *keys: str) -> Charge:
    kit.app.press(*keys, "enter")
    state = kit.app.run(
        until=lambda s: isinstance(s.screen, Charge) and s.screen.payload, timeout=10
    )
    return state.screen


def test_starts_at_home_with_a_frame(kit):
    kit.app.start()
    assert isinstance(kit.app.state.screen, Home)
    assert kit.display.last is not None and kit.display.last.size == (480, 320)


def test_amount_to_a_qr_the_customers_phone_can_read(kit):
    screen = charge(kit, "1", "2", "00", "0")
    assert screen.amount_won == 12_000
    kit.app.turn()
    assert decoded(kit.display.last) == [screen.payload]


def test_offline_code_in_view_is_approved_once_after_commit(kit):
    charge(kit, "5", "00", "0")
    text = kit.token(4242)
    kit.camera.show(text)
    kit.app.run(until=kit.screen_is(Approved), timeout=20)
    assert kit.sales() == 1
    assert kit.app.state.screen.entry.offline and kit.app.state.screen.entry.token_id == "4242"
    assert kit.feedback.played[-1] is Signal.SUCCESS
    # The same code held again for the next sale: refused, never recorded twice.
    kit.camera.clear()
    kit.idle(0.6)  # out of view longer than the hold release: the next showing is a new hold
    kit.app.press("enter")
    charge(kit, "3", "00", "0")
    kit.camera.show(text)
    kit.app.run(until=kit.screen_is(Refused), timeout=20)
    assert kit.app.state.screen.code == "replayed"
    assert kit.sales() == 1


def test_offline_mpm_paid_by_the_customers_receipt(kit):
    screen = charge(kit, "9", "00", "0")
    kit.camera.show(kit.receipt(screen.charge_id, 9_000, screen.payload))
    kit.app.run(until=kit.screen_is(Approved), timeout=20)
    entry = kit.app.state.screen.entry
    assert (entry.method, entry.offline, entry.charge_id) == ("mpm", True, screen.charge_id)


def test_a_receipt_for_another_sale_is_refused(kit):
    screen = charge(kit, "9", "00", "0")
    kit.camera.show(kit.receipt(screen.charge_id, 9_000, screen.payload + "x"))
    kit.app.run(until=kit.screen_is(Refused), timeout=20)
    assert kit.app.state.screen.code == "wrong_sale"
    assert kit.sales() == 0


def test_print_on_request_sends_a_slip_to_the_printer(kit):
    charge(kit, "5", "00", "0")
    kit.camera.show(kit.token(77))
    kit.app.run(until=kit.screen_is(Approved), timeout=20)
    kit.app.press("F1")
    kit.app.run(until=lambda s: kit.commands(PrintReceipt), timeout=5)
    kit.app.effects.paper.shutdown(wait=True)
    assert len(kit.printer.output) > 1000  # a raster slip


def test_day_close_requested_by_the_timer_file(kit, tmp_path):
    charge(kit, "5", "00", "0")
    kit.camera.show(kit.token(78))
    kit.app.run(until=kit.screen_is(Approved), timeout=20)
    kit.app.press("enter")
    kit.app.run(until=kit.screen_is(Home), timeout=5)
    request = tmp_path / "state" / CLOSE_REQUEST
    request.parent.mkdir()
    request.write_text("1\n")
    kit.app._last_close_check = 0
    kit.app.turn()
    assert not request.exists() and kit.app.state.ctx.today == ()


def test_stop_finishes_and_the_sale_is_durable(tmp_path):
    kit = Kit(tmp_path / "state")
    charge(kit, "5", "00", "0")
    kit.camera.show(kit.token(79))
    kit.app.run(until=kit.screen_is(Approved), timeout=20)
    kit.app.request_stop()
    kit.app.run(timeout=5)  # returns at once: stop was asked
    kit.app.shutdown()
    from terminal.ledger.store import Ledger

    again = Ledger(tmp_path / "state" / "terminal.db", kit.device_key, kit.config.device.id)
    assert again.queue()[0] == 1
    again.close()


def test_sd_notify_ready_and_watchdog(tmp_path):
    path = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(5)
    kit = Kit(tmp_path / "state", env={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000"})
    try:
        kit.app.start()
        assert server.recv(64) == b"READY=1"
        kit.app.turn()
        assert server.recv(64) == b"WATCHDOG=1"
        assert kit.app.health().ok
    finally:
        kit.app.shutdown()
        server.close()
    assert Notifier(None, None).send("READY=1") is False


def test_bad_preset_is_a_clear_error(tmp_path):
    config = kit_config(tmp_path, QR_TERMINAL__COUNTER__PRESETS='["떡볶이"]')
    with pytest.raises(AppError, match="label=won"):
        session_config(config)


def test_app_without_device_key_says_provision(tmp_path):
    from terminal.app.compose import build_app

    with pytest.raises(AppError, match="provision"):
        build_app(kit_config(tmp_path), env={})


class StagedOnly:
    """A sync worker stand-in that only holds pushed configuration (nothing runs)."""

    def __init__(self, config):
        from terminal.sync.pushed_config import ConfigHolder
        from terminal.sync.status import StatusBoard

        self.config, self.status = ConfigHolder(config), StatusBoard()

    def start(self):
        pass

    def stop(self, timeout=None):
        pass

    def wake(self):
        pass


def test_pushed_configuration_comes_into_force_at_home_only(tmp_path):
    config = kit_config(tmp_path / "state")
    sync = StagedOnly(config)
    kit = Kit(tmp_path / "state", config=config, sync=sync)
    try:
        kit.app.press("5")
        kit.app.run(until=lambda s: s.screen.__class__.__name__ == "AmountEntry", timeout=5)
        sync.config.stage(
            {"version": 2, "issuer": config.issuer.id, "merchant": {"name_ko": "새 이름 분식"}},
            "etag-2",
        )
        kit.app._last_status = 0
        kit.app.turn()
        assert kit.app.state.ctx.config.merchant_name == config.merchant.name_ko  # mid-sale
        kit.app.press("cancel")
        kit.app.run(until=kit.screen_is(Home), timeout=5)
        kit.app._last_status = 0
        kit.app.turn()
        assert kit.app.state.ctx.config.merchant_name == "새 이름 분식"
        assert kit.app.effects.config.merchant.name_ko == "새 이름 분식"
    finally:
        kit.app.shutdown()


def test_auto_print_and_the_z_report_on_paper(tmp_path):
    from terminal.core.session.model import ReportView
    from tests.app.kit import MANAGER_PIN

    config = kit_config(tmp_path / "state", QR_TERMINAL__COUNTER__AUTO_PRINT="true")
    kit = Kit(tmp_path / "state", config=config)
    try:
        charge(kit, "5", "00", "0")
        kit.camera.show(kit.token(81))
        kit.app.run(until=kit.screen_is(Approved), timeout=20)
        kit.app.press("enter", "F3", *MANAGER_PIN, "enter", "enter")
        report = kit.app.run(until=kit.screen_is(ReportView), timeout=10).screen.report
        assert (report.sales_count, report.net_won, report.close_seq) == (1, 5_000, 2)
        kit.app.effects.paper.submit(lambda: None).result(timeout=30)  # the printer's queue ran
    finally:
        kit.app.shutdown()
    assert kit.printer.output.count(b"\x1dv0") >= 2  # two raster images: the slip and the report
    assert Signal.KEY_CLICK in kit.feedback.played
