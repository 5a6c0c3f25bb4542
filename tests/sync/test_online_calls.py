"""The app's online calls against the real simulator over mTLS: CPM authorization (idempotent),
refund (bounded), MPM charge register / long-poll / cancel, and the platform's keys, signed
time and configuration through the worker."""

from __future__ import annotations

import os
import random
import time

import pytest

from terminal.config import load_config
from terminal.core.ids import new_charge_id, uuid7
from terminal.core.sale_qr import SaleQr, build_sale_qr
from terminal.sim.platform import wallets
from terminal.sim.platform.faults import Fault
from terminal.sync.backoff import SystemClock
from terminal.sync.errors import DeviceRefused, Parked, ShowShopkeeper
from terminal.sync.keys import KeyCache
from terminal.sync.pushed_config import ConfigHolder
from terminal.sync.trusted_time import TrustedClock
from terminal.sync.worker import SyncSettings, SyncWorker


def new_id() -> str:
    return str(uuid7(time.time_ns() // 1_000_000, os.urandom(10)))


@pytest.fixture
def wallet(server):
    return server.call(wallets.open_wallet, 1_000_000)


def token(server, wallet):
    return server.call(wallets.issue_token, wallet)


def test_cpm_authorization_is_idempotent_and_a_changed_retry_is_refused(server, device, wallet):
    client = device.client()
    txn = new_id()
    issued = token(server, wallet)
    first = client.authorize(txn, issued.qr_text, 12_000)
    assert first.approved and first.approval_number and first.benefits
    again = client.authorize(txn, issued.qr_text, 12_000)  # a retry after a lost reply
    assert again == first  # the first answer, not a second charge
    with pytest.raises(Parked):
        client.authorize(txn, issued.qr_text, 13_000)  # same id, other body
    reused = client.authorize(new_id(), issued.qr_text, 1_000)
    assert not reused.approved and reused.reason == "token_used"
    barcode = token(server, wallet).barcode_text
    assert client.authorize(new_id(), barcode, 2_000, barcode=True).approved
    client.close()


def test_refunds_are_bounded_by_what_remains(server, device, wallet):
    client = device.client()
    txn = new_id()
    assert client.authorize(txn, token(server, wallet).qr_text, 10_000).approved
    part = client.refund(new_id(), txn, 4_000)
    assert part.approved and part.remaining == 6_000
    too_much = client.refund(new_id(), txn, 7_000)
    assert not too_much.approved and too_much.reason == "exceeds_remaining"
    assert too_much.remaining == 6_000
    with pytest.raises(Parked):
        client.refund(new_id(), new_id(), 1_000)  # no such sale: upload it first
    client.close()


def sale_qr(device, amount: int, expires_at: int) -> tuple[str, str]:
    charge_id = new_charge_id(time.time_ns() // 1_000_000, os.urandom(7))
    merchant = device.merchant
    sale = SaleQr(
        platform_guid="kr.incheon.eeum",
        merchant_id=merchant["id"],
        terminal_id=device.device_id,
        mcc=merchant["mcc"],
        amount_won=amount,
        name_en=merchant["name_en"],
        city_en=merchant["city_en"],
        name_ko=merchant["name_ko"],
        city_ko=merchant["city_ko"],
        charge_id=charge_id,
        terminal_label=device.device_id,
        expires_at=expires_at,
        key_id=device.key.kid,
    )
    return charge_id, build_sale_qr(sale, device.key.sign)


def test_mpm_charge_register_long_poll_pay_and_cancel(server, device, wallet):
    client = device.client()
    expires = int(time.time()) + 600
    charge_id, payload = sale_qr(device, 8_000, expires)
    registered = client.register_charge(charge_id, 8_000, expires * 1000, payload)
    assert registered.status == "pending"
    assert client.register_charge(charge_id, 8_000, expires * 1000, payload) == registered
    assert client.charge_status(charge_id, wait_seconds=0).status == "pending"
    from terminal.sim.platform import charges

    server.call(charges.pay, charge_id, payload, wallet)
    paid = client.charge_status(charge_id, wait_seconds=5)
    assert paid.status == "paid" and paid.receipt
    with pytest.raises(ShowShopkeeper):
        client.cancel_charge(charge_id)  # already paid: tell the shopkeeper

    other_id, other = sale_qr(device, 3_000, expires)
    client.register_charge(other_id, 3_000, expires * 1000, other)
    assert client.cancel_charge(other_id).status == "cancelled"
    client.close()


def test_a_revoked_certificate_stops_the_sync_and_keeps_records(server, device):
    from tests.sync.test_real_server import record

    ledger = device.ledger()
    record(ledger, 1)
    serial = server.call(
        lambda p, d: p.db.execute(
            "SELECT serial FROM certificates WHERE device_id = ?", (d,)
        ).fetchone()[0],
        device.device_id,
    )
    server.call(lambda p, s: p.revoke(s), serial)
    worker = SyncWorker(ledger, device.client(), device_id=device.device_id, probe=lambda: True)
    worker.cycle()
    assert "DeviceRefused" in worker.status.current.problem
    assert ledger.queue()[0] == 1
    with pytest.raises(DeviceRefused):
        worker.run_once()
    ledger.close()


def test_keys_time_and_config_from_the_simulator(server, device, tmp_path):
    ledger = device.ledger()
    base = load_config(env={}).config
    keys = KeyCache(tmp_path / "platform-keys.json", min_interval_seconds=0)
    clock = SystemClock()
    trusted = TrustedClock(
        wall_ms=clock.wall_ms,
        monotonic=clock.monotonic,
        last_trusted_ms=0,
        note_trusted=ledger.note_trusted_time,
        ntp=lambda: False,
    )
    holder = ConfigHolder(base, tmp_path / "pushed.json")
    worker = SyncWorker(
        ledger,
        device.client(),
        device_id=device.device_id,
        settings=SyncSettings(time_seconds=0, config_seconds=0),
        clock=clock,
        rng=random.Random(1),
        probe=lambda: True,
        keys=keys,
        trusted=trusted,
        config=holder,
    )
    worker.cycle()
    assert len(keys.keys) >= 2
    assert trusted.state().trusted  # the platform's signed time agrees with ours
    first = holder.version
    assert first is not None and worker.status.current.problem is None
    server.call(lambda p: p.push_config({"offline": {"max_count": 12}}))
    worker.cycle()
    in_force = holder.for_sale()
    assert in_force.version == first + 1 and in_force.config.offline.max_count == 12
    assert worker.status.current.config_version == str(first + 1)

    # The platform's clock runs an hour ahead: our clock is no longer trusted.
    server.faults.set(clock_skew_ms=3_600_000)
    try:
        worker.cycle()
    finally:
        server.faults.clear()
    assert not trusted.state().trusted
    worker.cycle()
    assert trusted.state().trusted

    # Rotation: a new signing key signs the time; the unknown key id fetches the keys at once.
    new_kid = server.call(lambda p: p.keys.rotate(p.clock.now_ms()))
    assert new_kid not in keys.keys
    trusted.platform = None
    worker.cycle()
    assert new_kid in keys.keys and worker.status.current.problem is None
    assert trusted.platform is not None and trusted.state().trusted
    ledger.close()


def test_slow_and_cut_answers_are_retried_not_believed(server, device):
    from tests.sync.test_real_server import record

    ledger = device.ledger()
    committed = {record(ledger, n).record.txn_id for n in range(30)}
    server.faults.set(Fault("close_mid_body", rate=1.0, path="/v1/transactions", count=2), seed=3)
    worker = SyncWorker(
        ledger,
        device.client(),
        device_id=device.device_id,
        probe=lambda: True,
        settings=SyncSettings(batch_size=10, config_seconds=1e9, time_seconds=1e9),
    )
    try:
        for _ in range(10):
            if ledger.queue()[0] == 0:
                break
            worker.cycle()
    finally:
        server.faults.clear()
    from tests.sync.realserver import platform_records

    assert ledger.queue()[0] == 0
    assert set(platform_records(server, device.device_id)) == committed
    assert worker.totals.duplicate >= 10  # the cut-off batches were committed, then re-sent
    ledger.close()


def test_enrollment_refusals_are_shown_with_the_platforms_reason(server, tmp_path):
    from terminal.signing import DeviceKey
    from terminal.sync.client import enroll

    csr = DeviceKey.generate().csr("SERIAL-9")
    code = server.new_code()
    enroll(server.url, server.ca_path, code, csr)
    other = DeviceKey.generate().csr("SERIAL-10")
    with pytest.raises(ShowShopkeeper) as used:
        enroll(server.url, server.ca_path, code, other)
    assert used.value.problem.name == "code_used" and not isinstance(used.value, DeviceRefused)
    wrong = code[:5] + ("A" if code[5] != "A" else "B") + code[6:]
    with pytest.raises(ShowShopkeeper) as refused:
        enroll(server.url, server.ca_path, wrong, csr)
    assert refused.value.problem.name in ("code_invalid", "code_used")
