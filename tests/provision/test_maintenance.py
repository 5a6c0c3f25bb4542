"""The timers' jobs: certificate renewal over mTLS against the real simulator (same key, new
certificate, refused when expired), and closing a day left open."""

from __future__ import annotations

import time

import pytest
from cryptography import x509

from terminal.cli import main
from terminal.ledger.health import check_database
from terminal.provision.layout import StateFiles
from terminal.provision.maintenance import (
    CLOSE_REQUEST,
    MaintenanceError,
    close_day,
    renew_certificate,
)
from terminal.provision.steps import ProvisionedPaths
from terminal.sim.platform.server import PlatformServer
from tests.ledger.helpers import T0, sale
from tests.provision.test_provision_root import provision
from tests.selftest.helpers import DEVICE, provisioned


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    with PlatformServer(tmp_path_factory.mktemp("platform")) as server:
        assert main(provision(server, root, "--code", server.new_code())) == 0
        yield server, StateFiles.from_paths(ProvisionedPaths(), root)


def test_renewal_waits_until_the_last_days(enrolled):
    server, files = enrolled
    before = files.cert.read_bytes()
    result = renew_certificate(files, server.url, int(time.time() * 1000), days_before=30)
    assert not result.renewed and result.days_left > 30
    assert files.cert.read_bytes() == before


def test_renewal_gets_a_new_certificate_for_the_same_key(enrolled):
    server, files = enrolled
    key_before, cert_before = files.key.read_bytes(), files.cert.read_bytes()
    old = x509.load_pem_x509_certificate(cert_before)
    result = renew_certificate(files, server.url, int(time.time() * 1000), 30, force=True)
    new = x509.load_pem_x509_certificate(files.cert.read_bytes())
    assert result.renewed
    assert new.serial_number != old.serial_number
    assert new.public_key().public_numbers() == old.public_key().public_numbers()
    assert new.subject == old.subject
    assert files.key.read_bytes() == key_before
    # The renewed certificate works: the selftest reaches the platform with it.
    root = files.state_dir.parents[2]
    assert main(["selftest", "--root", str(root), "--no-devices", "--json"]) == 0


def test_an_expired_certificate_cannot_renew_itself(enrolled):
    server, files = enrolled
    far = int(time.time() * 1000) + 4000 * 86_400_000
    with pytest.raises(MaintenanceError, match="reenroll"):
        renew_certificate(files, server.url, far, 30)


def test_close_day_closes_an_open_day_and_only_once(tmp_path):
    terminal = provisioned(tmp_path)
    ledger = terminal.ledger()
    sale(ledger, 12000)
    sale(ledger, 3000, 1)
    ledger.close()
    files = StateFiles(
        terminal.state,
        terminal.state / "device-key.pem",
        terminal.state / "device-cert.pem",
        terminal.database,
        terminal.state / "platform-ca.pem",
        terminal.state / "platform-keys.json",
        terminal.state / "enrollment.json",
    )
    now = T0 + 60_000
    assert close_day(files, DEVICE, now, True, running=False) == "closed the day (2 records)"
    health = check_database(terminal.database)
    assert health.by_kind["close"] == 1 and health.since_close == 0
    assert close_day(files, DEVICE, now, True, running=False) == "the day is already closed"


def test_close_day_leaves_a_request_while_the_terminal_runs(tmp_path):
    terminal = provisioned(tmp_path)
    ledger = terminal.ledger()
    sale(ledger, 12000)
    ledger.close()
    files = StateFiles(
        terminal.state,
        terminal.state / "device-key.pem",
        terminal.state / "device-cert.pem",
        terminal.database,
        terminal.state / "platform-ca.pem",
        terminal.state / "platform-keys.json",
        terminal.state / "enrollment.json",
    )
    outcome = close_day(files, DEVICE, T0 + 1, True, running=True)
    assert "asked the running terminal" in outcome
    assert (terminal.state / CLOSE_REQUEST).read_text() == f"{T0 + 1}\n"
    assert check_database(terminal.database).since_close == 1  # the ledger was not touched


def test_cli_close_day_direct_and_renew_not_due(tmp_path, capsys):
    terminal = provisioned(tmp_path)
    ledger = terminal.ledger()
    sale(ledger, 1000)
    ledger.close()
    device = ["--device", str(terminal.device_file)]
    assert main(["maintain", "close-day", "--if-open", "--direct", *device]) == 0
    assert "closed the day (1 records)" in capsys.readouterr().out
    assert main(["maintain", "close-day", "--direct", *device]) == 0
    assert "already closed" in capsys.readouterr().out
    assert main(["maintain", "renew-cert", *device]) == 0
    assert "still valid" in capsys.readouterr().out
