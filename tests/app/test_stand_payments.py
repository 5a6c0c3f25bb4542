"""Payments to the printed QR stand (고정형), end to end: the app runs against the real simulator
(HTTPS + mTLS), a customer's wallet verifies the stand's QR and pays the amount typed, and after
the next sync the payment is in the journal, in today's history marked as paid to the stand, in
the day's totals and the Z report; its upload is the payment's one record at the platform."""

from __future__ import annotations

import json

import pytest

from terminal.app.compose import build_app
from terminal.core.session.model import History, ReportView
from terminal.core.session.stand import Stand, build_stand_qr
from terminal.ledger.reader import read_records
from terminal.sim.live_camera import LiveCamera
from terminal.sim.platform.server import PlatformServer
from terminal.sim.wallet import InProcessLink, Wallet
from terminal.ui.screens import render
from tests.app.test_end_to_end import PIN, enrolled_config


@pytest.fixture
def server(tmp_path):
    with PlatformServer(tmp_path / "platform") as running:
        yield running


def stand_payload(config, key, serial: int = 1) -> str:
    m = config.merchant
    stand = Stand(
        config.platform.guid, m.id, config.device.id, m.mcc, m.name_en, m.city_en, m.name_ko,
        m.city_ko, serial, key.kid,
    )  # fmt: skip
    return build_stand_qr(stand, key.sign)


def stand_entries(state):
    return [e for e in state.ctx.today if e.kind == "stand"]


def test_a_payment_to_the_stand_shows_after_the_next_sync(server, tmp_path):
    config, devices = enrolled_config(server, tmp_path / "state", tmp_path / "staging")
    app = build_app(config, devices, camera=LiveCamera(fps=5))
    wallet = Wallet.open(InProcessLink(server), 100_000)
    payload = stand_payload(config, app.parts.device_key, serial=2)

    def until(predicate, timeout=30.0):
        return app.run(until=predicate, timeout=timeout)

    try:
        until(lambda s: s.ctx.status.online)
        paid = wallet.pay_stand(payload, 7_000)  # the terminal is not asked: only the platform
        state = until(lambda s: stand_entries(s))
        (entry,) = stand_entries(state)
        assert (entry.txn_id, entry.amount_won, entry.charge_id) == (
            paid.payment_id,
            7_000,
            "STAND-000002",
        )
        assert (entry.method, entry.offline) == ("mpm", False)
        assert entry.cashback_won > 0  # the platform's figures for this customer

        # Today's history lists it, marked as paid to the stand.
        app.press("F2")
        state = until(lambda s: isinstance(s.screen, History))
        render(state, app.size, app.theme)  # the stand row draws (views_manage: 고정QR)
        app.press("cancel")

        # A second payment; the upload of both leaves nothing queued, and the platform holds
        # exactly one record per payment, under the payment's id.
        second = wallet.pay_stand(payload, 3_000)
        until(lambda s: len(stand_entries(s)) == 2)

        def held() -> dict:
            return server.call(
                lambda p: dict(p.db.execute("SELECT txn_id, amount FROM records").fetchall())
            )

        # Waited on the platform itself: the status bar's queue depth is sampled and may not
        # yet count the second record.
        until(lambda s: len(held()) >= 2)
        assert held() == {paid.payment_id: 7_000, second.payment_id: 3_000}

        # The day close counts them as paid to the stand.
        app.press("F3", *PIN, "enter", "enter")
        report = until(lambda s: isinstance(s.screen, ReportView)).screen.report
        assert (report.stand_count, report.stand_won, report.sales_count) == (2, 10_000, 0)
        assert report.net_won == 10_000
        app.press("enter")
        until(lambda s: s.ctx.status.queue_depth == 0)
    finally:
        app.shutdown()

    journal = read_records(tmp_path / "state" / "terminal.db")
    stand_sales = [r for r in journal if r.refs.get("charge_id", "").startswith("STAND-")]
    assert [r.txn_id for r in stand_sales] == [paid.payment_id, second.payment_id]
    cursor = json.loads((tmp_path / "state" / "stand-cursor.json").read_text())["after"]
    assert cursor >= 2
    assert server.errors == []


def test_a_restarted_app_records_nothing_twice(server, tmp_path):
    config, devices = enrolled_config(server, tmp_path / "state", tmp_path / "staging")
    app = build_app(config, devices, camera=LiveCamera(fps=5))
    wallet = Wallet.open(InProcessLink(server), 100_000)
    try:
        app.run(until=lambda s: s.ctx.status.online, timeout=30)
        wallet.pay_stand(stand_payload(config, app.parts.device_key), 4_000)
        app.run(until=lambda s: stand_entries(s), timeout=30)
    finally:
        app.shutdown()
    # The cursor file is lost (as after a power cut before it was written): fetched again,
    # skipped by payment id.
    (tmp_path / "state" / "stand-cursor.json").unlink()
    app = build_app(config, devices, camera=LiveCamera(fps=5))
    try:
        state = app.run(until=lambda s: s.ctx.status.online and s.ctx.today, timeout=30)
        app.run(until=lambda s: app.parts.sync.stand.acknowledged >= 1, timeout=30)
        assert len(stand_entries(app.state)) == 1 == len(stand_entries(state))
    finally:
        app.shutdown()
    journal = read_records(tmp_path / "state" / "terminal.db")
    assert len(journal) == 1


def test_the_apps_own_calls_report_contact_to_the_sync(server, tmp_path):
    config, devices = enrolled_config(server, tmp_path / "state", tmp_path / "staging")
    app = build_app(config, devices, camera=LiveCamera(fps=5))
    try:
        sync = app.parts.sync
        client = app.parts.client_factory()
        assert client.on_contact == sync.network_seen
        client.keys()  # an answer: the sync (not started, so not online) is woken
        assert sync._wake.is_set() and sync.status.current.last_contact_ms
    finally:
        app.shutdown()
