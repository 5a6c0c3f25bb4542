"""`maintain close-day` opens the ledger itself only when systemd clearly says the terminal is
stopped; a missing systemctl, a D-Bus failure, an answer it does not know or a hang all count
as running, and the close is left as a request for the app (review #4)."""

from __future__ import annotations

import stat

import pytest

from terminal.cli import main
from terminal.ledger.health import check_database
from terminal.provision.maintenance import CLOSE_REQUEST, service_running, service_seen_running
from tests.ledger.helpers import sale
from tests.selftest.helpers import provisioned

BUS_FAILURE = 'echo "Failed to connect to bus: No such file or directory" >&2; exit 1'


def fake_systemctl(folder, body: str):
    """A `systemctl` on PATH that answers with `body` (a shell script)."""
    folder.mkdir(exist_ok=True)
    script = folder / "systemctl"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


@pytest.mark.parametrize(
    ("body", "running"),
    [
        ("echo active", True),
        ("echo activating; exit 3", True),
        ("echo deactivating; exit 3", True),
        ("echo inactive; exit 3", False),
        ("echo failed; exit 3", False),
        (BUS_FAILURE, True),
        ("echo maintenance; exit 3", True),
        ("exit 0", True),
    ],
)
def test_only_a_clear_stopped_answer_means_not_running(tmp_path, monkeypatch, body, running):
    monkeypatch.setenv("PATH", str(fake_systemctl(tmp_path / "bin", body)))
    assert service_running() is running


def test_no_systemctl_counts_as_running(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert service_running() is True


def test_a_hanging_systemctl_counts_as_running(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_systemctl(tmp_path / "bin", "exec sleep 30")))
    assert service_running(timeout_s=0.2) is True


def test_cli_leaves_the_request_when_systemd_cannot_be_asked(tmp_path, monkeypatch, capsys):
    terminal = provisioned(tmp_path)
    ledger = terminal.ledger()
    sale(ledger, 1000)
    ledger.close()
    monkeypatch.setenv("PATH", str(fake_systemctl(tmp_path / "bin", BUS_FAILURE)))
    assert main(["maintain", "close-day", "--device", str(terminal.device_file)]) == 0
    assert "asked the running terminal" in capsys.readouterr().out
    assert (terminal.state / CLOSE_REQUEST).is_file()
    assert check_database(terminal.database).since_close == 1  # the ledger was not opened


@pytest.mark.parametrize(
    ("body", "seen"),
    [("echo active", True), ("echo inactive; exit 3", False), (BUS_FAILURE, False)],
)
def test_the_selftest_leaves_devices_alone_only_when_systemd_says_it_runs(
    tmp_path, monkeypatch, body, seen
):
    monkeypatch.setenv("PATH", str(fake_systemctl(tmp_path / "bin", body)))
    assert service_seen_running() is seen


def test_without_systemctl_the_selftest_opens_the_devices(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert service_seen_running() is False
