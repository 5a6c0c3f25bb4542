"""`qr-terminal sync once` and `sync status` against the real simulator, and their bad input."""

from __future__ import annotations

import json
import shutil

from terminal.app.lock import StateLock
from terminal.cli import main
from tests.sync.realserver import platform_records
from tests.sync.test_real_server import record


def provisioned(device, url=None):
    """The files provisioning leaves: device.toml naming the state dir that holds the key,
    certificate, platform CA and database."""
    state = device.folder
    shutil.copy(state / "device.key", state / "device-key.pem")
    shutil.copy(state / "device.crt", state / "device-cert.pem")
    (state / "device-key.pem").chmod(0o600)
    device_file = state / "device.toml"
    device_file.write_text(
        f'[device]\nid = "{device.device_id}"\nserial = "SERIAL-1"\n\n'
        f'[platform]\nurl = "{url or device.url}"\n\n[paths]\nstate_dir = "{state}"\n'
    )
    return device_file


def test_sync_once_drains_and_status_reports(server, device, capsys):
    ledger = device.ledger()
    ids = {record(ledger, n).record.txn_id for n in range(7)}
    ledger.close()
    device_file = provisioned(device)
    assert main(["sync", "status", "--device", str(device_file)]) == 0
    assert "queue: 7 record(s) waiting" in capsys.readouterr().out

    assert main(["sync", "once", "--device", str(device_file)]) == 0
    out = capsys.readouterr().out
    assert "sent 7 record(s) in 1 request(s): 7 accepted" in out and "0 still queued" in out
    assert set(platform_records(server, device.device_id)) == ids

    assert main(["sync", "status", "--device", str(device_file), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["online"] is True and status["queue_depth"] == 0 and status["parked"] == 0
    assert status["last_contact_ms"] is not None


def test_sync_once_without_the_platform_keeps_records_and_exits_1(server, device, capsys):
    ledger = device.ledger()
    record(ledger, 1)
    ledger.close()
    device_file = provisioned(device, url="https://127.0.0.1:9")  # nothing listens there
    assert main(["sync", "once", "--device", str(device_file)]) == 1
    assert "not finished" in capsys.readouterr().err
    ledger = device.ledger()
    assert ledger.queue()[0] == 1
    ledger.close()


def test_sync_once_beside_a_running_terminal_is_refused_and_sends_nothing(server, device, capsys):
    """One writer of the ledger: the terminal that holds run.lock sends its own outbox."""
    ledger = device.ledger()
    record(ledger, 1)
    ledger.close()
    device_file = provisioned(device)
    before = (device.folder / "terminal.db").read_bytes()
    running = StateLock.take(device.folder)
    try:
        assert main(["sync", "once", "--device", str(device_file)]) == 2
    finally:
        running.close()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another qr-terminal is running" in err
    assert (device.folder / "terminal.db").read_bytes() == before
    assert platform_records(server, device.device_id) == {}
    assert main(["sync", "once", "--device", str(device_file)]) == 0  # stopped: it may send


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    missing = tmp_path / "nope.toml"
    assert main(["sync", "once", "--device", str(missing)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.toml" in err[0]
    bare = tmp_path / "device.toml"
    bare.write_text(f'[device]\nid = "D-1"\nserial = "S-1"\n\n[paths]\nstate_dir = "{tmp_path}"\n')
    assert main(["sync", "once", "--device", str(bare)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "provision the device first" in err[0]
    assert not (tmp_path / "terminal.db").exists()
