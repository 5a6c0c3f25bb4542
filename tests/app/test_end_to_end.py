"""The whole app against the real platform simulator (HTTPS + mTLS on 127.0.0.1): an enrolled
device, the sync thread, a wallet that pays the screen's QR, customer codes held to a live
simulated camera, an outage with an offline acceptance, reconnection and drain, a refund and
the day close, all through the app's own keys. At the end the platform holds exactly what the
journal holds."""

from __future__ import annotations

import time

import pytest

from terminal.app.compose import build_app
from terminal.core.session.model import Approved, Charge, History, RefundDone, ReportView
from terminal.demo.world import FAKE_DEVICES, MANAGER_PIN, enroll_device
from terminal.ledger.reader import read_records
from terminal.sim.live_camera import LiveCamera
from terminal.sim.platform.faults import Fault
from terminal.sim.platform.server import PlatformServer
from terminal.sim.wallet import InProcessLink, Wallet

PIN = MANAGER_PIN


@pytest.fixture
def server(tmp_path):
    with PlatformServer(tmp_path / "platform") as running:
        yield running


def enrolled_config(server, state_dir, _staging=None):
    """The demo's own enrollment (terminal/demo/world.py), with headless fakes."""
    config, _files = enroll_device(server, state_dir)
    devices = {"QR_TERMINAL_DISPLAY": "headless", "QR_TERMINAL_INPUT": "script", **FAKE_DEVICES}
    return config, devices


def test_a_day_against_the_simulator(server, tmp_path):
    config, devices = enrolled_config(server, tmp_path / "state", tmp_path / "staging")
    camera = LiveCamera(fps=20)
    app = build_app(config, devices, camera=camera)
    wallet = Wallet.open(InProcessLink(server), 1_000_000)

    def until(predicate, timeout=30.0):
        return app.run(until=predicate, timeout=timeout)

    def approved(state):
        return isinstance(state.screen, Approved)

    def sale(*keys):
        app.press(*keys, "enter")
        return until(lambda s: isinstance(s.screen, Charge) and s.screen.payload).screen

    def show(text):
        camera.show(text)
        entry = until(approved).screen.entry
        camera.clear()
        until(lambda _: time.sleep(0.4) or True)  # out of view longer than the hold release
        app.press("enter")
        return entry

    try:
        until(lambda s: s.ctx.status.online and s.ctx.status.clock_trusted)

        # MPM online: the customer's wallet reads the screen and pays; the platform says paid.
        sale("1", "2", "00", "0")
        app.turn()
        wallet.pay_screen(app.parts.display.last)
        mpm = until(approved).screen.entry
        assert (mpm.method, mpm.offline, mpm.amount_won) == ("mpm", False, 12_000)
        app.press("enter")

        # CPM online: a fresh code held to the camera.
        sale("8", "00", "0")
        cpm = show(wallet.token().qr_text)
        assert (cpm.method, cpm.offline) == ("cpm", False)
        # The record carries the id the platform authorized the payment by (its refund must
        # find the customer's money).
        authorized = server.call(
            lambda platform: platform.db.execute(
                "SELECT amount FROM authorizations WHERE transaction_id = ?", (cpm.txn_id,)
            ).fetchone()
        )
        assert authorized == (8_000,)

        # The network goes: the next code is accepted offline by the rules.
        # New connections refused, kept-alive ones dropped: the platform is gone for everyone.
        server.faults.set(Fault("refuse"), Fault("drop_request"))
        server.settle()
        sale("4", "5", "00")
        offline = show(wallet.token().qr_text)
        assert (offline.method, offline.offline, offline.amount_won) == ("cpm", True, 4_500)
        # The status bar says so: offline, the sale waiting in the outbox.
        until(lambda s: not s.ctx.status.online and s.ctx.status.queue_depth >= 1)

        # Back online: the outbox drains.
        server.faults.clear()
        server.settle()
        until(lambda s: s.ctx.status.online and s.ctx.status.queue_depth == 0)

        # A partial refund of the MPM sale with the manager PIN, from today's list.
        app.press("F2", "F2", "F2")  # down to the oldest sale
        until(lambda s: isinstance(s.screen, History) and s.screen.cursor == 2)
        app.press("F4", *PIN, "enter", "clear", "5", "00", "0", "enter")
        refund = until(lambda s: isinstance(s.screen, RefundDone)).screen.entry
        assert (refund.kind, refund.amount_won, refund.original_txn) == (
            "refund",
            5_000,
            mpm.txn_id,
        )
        app.press("enter")

        # The day close: Z report on screen.
        app.press("F3", *PIN, "enter", "enter")
        report = until(lambda s: isinstance(s.screen, ReportView)).screen.report
        assert report.sales_count == 3 and report.refund_won == 5_000
        assert report.net_won == 12_000 + 8_000 + 4_500 - 5_000
        app.press("enter")
        until(lambda s: s.ctx.status.queue_depth == 0 and s.ctx.status.online)
    finally:
        app.shutdown()

    journal = {r.txn_id for r in read_records(tmp_path / "state" / "terminal.db")}
    held = server.call(
        lambda platform: {
            row[0]
            for row in platform.db.execute(
                "SELECT txn_id FROM records WHERE device_id = ?", (config.device.id,)
            )
        }
    )
    assert held == journal and len(journal) == 5  # 3 sales, a refund, a close
    assert server.errors == []
