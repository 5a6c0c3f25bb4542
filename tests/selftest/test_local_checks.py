"""Selftest without the network: each failure mode of configuration, key, certificate, disk,
database and outbox is reported as a failure (or a warning) with what to do."""

from __future__ import annotations

import datetime
import json
import shutil
from collections import namedtuple

import pytest

from terminal.cli import main
from terminal.selftest import local
from terminal.selftest.report import exit_code, to_text
from terminal.selftest.runner import Inputs, run
from terminal.signing import DeviceKey
from terminal.sim.ca import SimCA
from tests.ledger.helpers import T0, sale
from tests.selftest.helpers import DAY_MS, provisioned


def selftest(terminal, now_ms=T0 + DAY_MS, ntp=True, device_file=None):
    inputs = Inputs(
        device_file=device_file or terminal.device_file,
        env={},
        now_ms=now_ms,
        wall_ms=lambda: now_ms,
        offline=True,
        ntp=lambda: ntp,
    )
    results = run(inputs)
    return {r.check: r for r in results}, results


def test_a_healthy_terminal_passes(tmp_path):
    terminal = provisioned(tmp_path)
    ledger = terminal.ledger()
    sale(ledger, 12000)
    ledger.close()
    by_check, results = selftest(terminal, now_ms=T0 + 60_000)
    assert exit_code(results) == 0, to_text(results)
    assert by_check["key"].status == "ok"
    assert by_check["certificate"].facts["days_left"] == 824
    assert by_check["database"].facts["last_seq"] == 1
    assert by_check["outbox"].facts["pending"] == 1
    assert by_check["platform"].status == "skip"
    assert "자가 진단 통과" in to_text(results)


def test_broken_configuration_fails_and_skips_the_rest(tmp_path):
    terminal = provisioned(tmp_path)
    terminal.device_file.write_text('[camera]\nbackend = "webcam"\n', encoding="utf-8")
    by_check, results = selftest(terminal)
    assert by_check["config"].status == "fail"
    assert "webcam" in by_check["config"].en
    assert exit_code(results) == 1
    assert [r.status for r in results] == ["fail", "skip"]


def test_missing_key_fails_with_what_to_do(tmp_path):
    terminal = provisioned(tmp_path)
    (terminal.state / "device-key.pem").unlink()
    by_check, results = selftest(terminal)
    assert by_check["key"].status == "fail"
    assert "scripts/provision" in by_check["key"].fix_en
    assert exit_code(results) == 1


def test_key_not_matching_the_certificate_fails(tmp_path):
    terminal = provisioned(tmp_path)
    (terminal.state / "device-key.pem").unlink()
    DeviceKey.generate().save(terminal.state / "device-key.pem")
    by_check, _ = selftest(terminal)
    assert by_check["key"].status == "fail"
    assert "does not match" in by_check["key"].en


def test_expired_certificate_fails(tmp_path):
    terminal = provisioned(tmp_path, cert_days=10)
    by_check, results = selftest(terminal, now_ms=T0 + 11 * DAY_MS)
    assert by_check["certificate"].status == "fail"
    assert "expired" in by_check["certificate"].en
    assert exit_code(results) == 1


def test_certificate_close_to_expiry_warns_without_failing(tmp_path):
    terminal = provisioned(tmp_path, cert_days=40)
    by_check, results = selftest(terminal, now_ms=T0 + 20 * DAY_MS)
    assert by_check["certificate"].status == "warn"
    assert "renew-cert" in by_check["certificate"].fix_en
    assert exit_code(results) == 0


def test_certificate_from_another_ca_fails(tmp_path):
    terminal = provisioned(tmp_path)
    stranger = SimCA(datetime.datetime.fromtimestamp(T0 / 1000, datetime.UTC))
    (terminal.state / "device-cert.pem").write_bytes(
        stranger.issue(terminal.key.csr("SERIAL-1"), "D-TEST-0001")
    )
    by_check, _ = selftest(terminal)
    assert by_check["key"].status == "ok"
    assert by_check["certificate"].status == "fail"
    assert "not issued by the platform CA" in by_check["certificate"].en


def test_clock_neither_synchronised_nor_compared_fails(tmp_path):
    terminal = provisioned(tmp_path)
    by_check, results = selftest(terminal, ntp=False)
    assert by_check["clock"].status == "fail"
    assert "timedatectl" in by_check["clock"].fix_en
    assert exit_code(results) == 1


Usage = namedtuple("Usage", "total used free")


@pytest.mark.parametrize(("free_mb", "status"), [(10, "fail"), (100, "warn"), (1000, "ok")])
def test_free_disk_thresholds(tmp_path, monkeypatch, free_mb, status):
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(8 << 30, 0, free_mb * 1024 * 1024))
    assert local.free_disk(tmp_path).status == status


def test_damaged_database_fails(tmp_path):
    terminal = provisioned(tmp_path)
    ledger = terminal.ledger()
    for n in range(50):
        sale(ledger, 1000 + n, n)
    ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ledger.close()
    data = bytearray(terminal.database.read_bytes())
    # Overwrite a b-tree page in the middle: the header stays, quick_check finds the damage.
    page = 4096
    data[2 * page : 3 * page] = b"\xa5" * page
    terminal.database.write_bytes(bytes(data))
    by_check, results = selftest(terminal)
    assert by_check["database"].status == "fail"
    assert "collect-diagnostics" in by_check["database"].fix_en
    assert "outbox" not in by_check
    assert exit_code(results) == 1


def test_not_a_database_fails(tmp_path):
    terminal = provisioned(tmp_path)
    terminal.database.write_bytes(b"this is not sqlite" * 100)
    by_check, _ = selftest(terminal)
    assert by_check["database"].status == "fail"


def test_missing_database_only_warns(tmp_path):
    terminal = provisioned(tmp_path)
    by_check, results = selftest(terminal)
    assert by_check["database"].status == "warn"
    assert exit_code(results) == 0


def test_parked_records_fail(tmp_path):
    terminal = provisioned(tmp_path)
    ledger = terminal.ledger()
    sale(ledger, 5000)
    [(txn, _)] = ledger.claim(10, T0)
    ledger.settle([], {txn: "chain_broken"}, [])
    ledger.close()
    by_check, results = selftest(terminal, now_ms=T0 + 1000)
    assert by_check["outbox"].status == "fail"
    assert by_check["outbox"].facts["parked_reasons"] == {"chain_broken": 1}
    assert exit_code(results) == 1


@pytest.mark.parametrize(("hours", "status"), [(0, "ok"), (2, "warn"), (73, "fail")])
def test_outbox_age(tmp_path, hours, status):
    terminal = provisioned(tmp_path)
    ledger = terminal.ledger()
    sale(ledger, 5000)
    ledger.close()
    by_check, _ = selftest(terminal, now_ms=T0 + hours * 3_600_000 + 1000)
    assert by_check["outbox"].status == status
    assert by_check["outbox"].facts["oldest_pending_age_s"] == hours * 3600 + 1


def test_cli_json_and_exit_code(tmp_path, capsys):
    terminal = provisioned(tmp_path)
    (terminal.state / "device-key.pem").unlink()
    code = main(
        ["selftest", "--json", "--offline", "--no-devices", "--device", str(terminal.device_file)]
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["passed"] is False
    assert {c["check"]: c["status"] for c in document["checks"]}["key"] == "fail"


def test_cli_refuses_a_missing_device_file(tmp_path, capsys):
    code = main(["selftest", "--device", str(tmp_path / "nope.toml")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.toml" in err
