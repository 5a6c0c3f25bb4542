"""`qr-terminal platform serve|code|ca-path`: a real server process, and bad input refused with
one line and exit 2, creating nothing."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from terminal.cli import main
from terminal.sim.platform.client import DeviceClient, enroll, tls_context


def test_code_and_ca_path_use_the_state_directory(tmp_path, capsys):
    state = tmp_path / "platform"
    assert main(["platform", "ca-path", "--state-dir", str(state)]) == 0
    assert capsys.readouterr().out.strip() == str(state / "ca-cert.pem")
    assert main(["platform", "code", "--state-dir", str(state)]) == 0
    code = capsys.readouterr().out.strip()
    assert len(code) == 14 and code[4] == code[9] == "-"


def test_bad_input_is_one_line_exit_2_and_creates_nothing(tmp_path, capsys):
    state = tmp_path / "never"
    assert main(["platform", "serve", "--state-dir", str(state), "--faults", "[{}]"]) == 2
    assert main(["platform", "serve", "--state-dir", str(state), "--faults", "{oops"]) == 2
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["platform", "code", "--state-dir", str(a_file)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("error: ") for line in errors)
    assert not state.exists() and a_file.read_text() == "x"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_runs_a_real_server_that_enrolls_and_stops_on_a_signal(tmp_path, stop):
    state = tmp_path / "platform"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "terminal.cli",
            "platform",
            "serve",
            "--state-dir",
            str(state),
            "--port",
            "0",
            "--admin-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(5)]  # blocks until it is listening
        url = lines[0].split()[2]
        assert url.startswith("https://127.0.0.1:")
        code_run = subprocess.run(
            [sys.executable, "-m", "terminal.cli", "platform", "code", "--state-dir", str(state)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        enrolled = enroll(url, state / "ca-cert.pem", code_run.stdout.strip(), "SERIAL-CLI")
        client = enrolled.client(url, state / "ca-cert.pem")
        assert client.request("GET", "/v1/keys").status == 200
        client.close()
        anonymous = DeviceClient(url, tls_context(state / "ca-cert.pem"))
        assert anonymous.request("GET", "/v1/config").status == 401
        anonymous.close()
    finally:
        process.send_signal(stop)
        process.wait(timeout=30)
    assert process.returncode == 0  # stopped cleanly, listeners closed and database closed
