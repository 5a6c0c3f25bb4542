"""The timers' jobs: certificate renewal over mTLS against the real simulator (same key, new
certificate, refused when expired), and closing a day left open."""

from __future__ import annotations

import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from terminal.app.lock import StateLock
from terminal.cli import main
from terminal.ledger.health import check_database
from terminal.provision.layout import ProvisionedPaths, StateFiles
from terminal.provision.maintenance import (
    CLOSE_REQUEST,
    MaintenanceError,
    close_day,
    renew_certificate,
)
from terminal.signing import DeviceKey
from terminal.sim.platform.server import PlatformServer
from terminal.sync.client import PlatformClient
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
    files = state_files(terminal)
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
    files = state_files(terminal)
    outcome = close_day(files, DEVICE, T0 + 1, True, running=True)
    assert "asked the running terminal" in outcome
    assert (terminal.state / CLOSE_REQUEST).read_text() == f"{T0 + 1}\n"
    assert check_database(terminal.database).since_close == 1  # the ledger was not touched


def test_close_day_leaves_a_request_when_run_lock_is_held(tmp_path):
    """systemd may not know of a terminal (one started by hand), and a technician's
    stopped-terminal read holds run.lock too: the lock, not the service state, decides."""
    terminal = provisioned(tmp_path)
    ledger = terminal.ledger()
    sale(ledger, 12000)
    ledger.close()
    files = state_files(terminal)
    holder = StateLock.take(terminal.state)
    try:
        outcome = close_day(files, DEVICE, T0 + 1, True, running=False)
    finally:
        holder.close()
    assert "asked the running terminal" in outcome
    assert check_database(terminal.database).since_close == 1  # the ledger was not touched
    assert close_day(files, DEVICE, T0 + 2, True, running=False) == "closed the day (1 records)"


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


def answering(monkeypatch, change):
    """The real renewal round trip, with the platform's answer changed by `change(answer)`."""
    real = PlatformClient.renew_certificate

    def renew(self, csr_pem):
        return change(real(self, csr_pem), csr_pem)

    monkeypatch.setattr(PlatformClient, "renew_certificate", renew)


def someone_else(server):
    def change(answer, csr_pem):
        certificate = server.platform.pki.ca.issue(csr_pem, "D-SOMEONE-ELSE").decode()
        return answer | {"certificate": certificate}

    return change


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda answer, csr: answer | {"certificate": "not a certificate"}, "not a PEM"),
        (lambda answer, csr: answer | {"certificate": ""}, "not a PEM"),
        (
            lambda answer, csr: (
                answer
                | {"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}
            ),
            "not a PEM",
        ),
        (lambda answer, csr: answer | {"certificate": answer["ca_chain"][0]}, "key"),
        ("someone_else", "D-SOMEONE-ELSE"),
    ],
)
def test_a_bad_certificate_in_the_answer_replaces_nothing(enrolled, monkeypatch, change, said):
    server, files = enrolled
    before = files.cert.read_bytes()
    answering(monkeypatch, someone_else(server) if change == "someone_else" else change)
    with pytest.raises(MaintenanceError, match=said) as caught:
        renew_certificate(files, server.url, int(time.time() * 1000), 30, force=True)
    assert "\n" not in str(caught.value)
    assert files.cert.read_bytes() == before
    assert sorted(p.name for p in files.state_dir.iterdir() if p.name.startswith(".")) == []


def test_a_current_certificate_without_a_device_id_is_refused(tmp_path, monkeypatch):
    terminal = provisioned(tmp_path)
    files = state_files(terminal)
    nameless = x509.load_pem_x509_certificate(files.cert.read_bytes())
    key = DeviceKey.load(files.key)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(nameless.issuer)
        .public_key(key.public_key)
        .serial_number(1)
        .not_valid_before(nameless.not_valid_before_utc)
        .not_valid_after(nameless.not_valid_after_utc)
        .sign(ca_key, hashes.SHA256())
    )
    files.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    now = int(nameless.not_valid_after_utc.timestamp() * 1000) - 86_400_000
    with pytest.raises(MaintenanceError, match="no device id"):
        renew_certificate(files, "https://127.0.0.1:9", now, 30)


def test_cli_says_one_line_when_the_renewal_is_refused(tmp_path, capsys):
    terminal = provisioned(tmp_path)
    files = state_files(terminal)
    files.cert.write_text("garbage")
    assert main(["maintain", "renew-cert", "--device", str(terminal.device_file)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "certificate renewal failed" in err
    assert "Traceback" not in err and files.cert.read_text() == "garbage"


def state_files(terminal) -> StateFiles:
    return StateFiles(
        terminal.state,
        terminal.state / "device-key.pem",
        terminal.state / "device-cert.pem",
        terminal.database,
        terminal.state / "platform-ca.pem",
        terminal.state / "platform-keys.json",
        terminal.state / "enrollment.json",
    )
