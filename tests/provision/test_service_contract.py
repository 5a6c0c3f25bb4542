"""The service contract between the unit file and the installed release, without systemd: the
provisioned tree's own `qr-terminal run` (as ExecStart runs it) says READY=1 and WATCHDOG=1 on
a real $NOTIFY_SOCKET, and the selftest then finds the ledger it created."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from terminal.cli import main
from terminal.sim.platform.server import PlatformServer
from tests.provision.test_provision_root import provision


@pytest.fixture
def notify_socket(tmp_path):
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(60)  # a bound on a broken app, never a wait for something that came
    yield path, sock
    sock.close()


def test_installed_release_reports_ready_and_feeds_the_watchdog(tmp_path, notify_socket):
    path, sock = notify_socket
    root = tmp_path / "root"
    root.mkdir()
    with PlatformServer(tmp_path / "platform") as server:
        assert main(provision(server, root, "--code", server.new_code())) == 0
        binary = root / "opt/qr-terminal/current/venv/bin/qr-terminal"
        env = {
            **os.environ,
            "NOTIFY_SOCKET": str(path),
            "WATCHDOG_USEC": "2000000",
            "QR_TERMINAL_DISPLAY": "headless",
        }
        process = subprocess.Popen(
            [
                str(binary),
                "run",
                "--device",
                str(root / "etc/qr-terminal/device.toml"),
                "--state-dir",
                str(root / "var/lib/qr-terminal"),
                "--seconds",
                "30",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            seen = []
            while "WATCHDOG=1" not in seen:
                seen.append(sock.recv(4096).decode())
            assert seen.index("READY=1") < seen.index("WATCHDOG=1")
        finally:
            process.terminate()
            _out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err[-2000:]
        assert main(["selftest", "--root", str(root), "--json", "--no-devices"]) == 0
