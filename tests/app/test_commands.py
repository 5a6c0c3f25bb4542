"""`qr-terminal run`, `report` and `qr static` from the command line."""

from __future__ import annotations

import csv
import datetime
import io
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import redirect_stdout

import numpy as np
import pytest
import zxingcpp

from terminal.cli import main
from terminal.core.benefits import Benefits
from terminal.core.offline import ClockState
from terminal.core.session.report import entry_from_record, z_report
from terminal.ledger.store import Ledger
from terminal.signing import DeviceKey
from tests.app.kit import kit_config

DAY_MS = 1_790_000_000_000  # 2026-09-21 23:13 in Asia/Seoul


@pytest.fixture
def state(tmp_path, monkeypatch):
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("QR_TERMINAL__PATHS__STATE_DIR", str(state))
    monkeypatch.delenv("QR_TERMINAL_DEVICE_FILE", raising=False)
    return state


def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def a_day(state) -> list:
    config = kit_config(state)
    key = DeviceKey.generate()
    key.save(state / "device-key.pem")
    ledger = Ledger(state / "terminal.db", key, config.device.id)
    clock = ClockState(DAY_MS, True, DAY_MS)
    records = []
    for amount, discount, method, offline in ((12_000, 600, "cpm", True), (7_001, 0, "mpm", False)):
        records.append(ledger.record_sale(
            amount_won=amount - discount, method=method, benefits=Benefits(1_140, 0, 57),
            clock=clock, offline=offline, token_id=f"{amount}" if method == "cpm" else None,
            list_won=amount, discount_won=discount,
        ).record)  # fmt: skip
    refund = ledger.record_refund(
        original_txn=records[0].txn_id, amount_won=5_701, clock=ClockState(DAY_MS + 1, True, DAY_MS)
    )
    records.append(refund.record)
    ledger.record_close(clock=ClockState(DAY_MS + 2, True, DAY_MS))
    ledger.record_sale(
        amount_won=1_000,
        method="mpm",
        benefits=Benefits(0, 0, 0),
        offline=False,
        clock=ClockState(DAY_MS + 86_400_000, True, DAY_MS),
        charge_id=None,
    )  # fmt: skip  (the next day: not in the report)
    ledger.close()
    return records


def test_report_csv_columns_add_up_to_the_z_report(state):
    records = a_day(state)
    code, out = run_cli("report", "--day", "2026-09-21", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["kind"] for r in rows] == ["sale", "sale", "refund"]
    report = z_report([entry_from_record(r) for r in records])

    def total(column: str) -> int:
        return sum(int(r[column]) for r in rows)

    assert total("amount_won") == report.net_won == 11_400 + 7_001 - 5_701
    assert total("supply_won") == report.supply_won and total("vat_won") == report.vat_won
    assert total("discount_won") == report.discount_won
    assert total("cashback_won") == report.cashback_won
    code, out = run_cli("report", "--day", "2026-09-21")
    assert code == 0 and f"순매출: {report.net_won:,}원" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("report", "--day", "22/09/2026"), "YYYY-MM-DD"),
        (("report", "--day", "2026-09-21", "--db", "/nonexistent.db"), "no such database"),
        (("qr", "static", "--pdf", "stand.png"), "ending in .pdf"),
        (("qr", "static", "--pdf", "/nonexistent/dir/stand.pdf"), "no such directory"),
        (("run", "--seconds", "0"), "positive"),
        (("run", "--seconds", "nan"), "positive"),
        (("run", "--seconds", "inf"), "positive"),
        (("run", "--state-dir", "/nonexistent"), "no such directory"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(state, capsys, argv, message):
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_run_without_a_device_key_says_provision(state, capsys):
    assert main(["run", "--seconds", "1", "--no-platform"]) == 2
    assert "provision" in capsys.readouterr().err


def test_static_stand_pdf(state, tmp_path, capsys):
    from terminal.cli.static_qr import stand_page
    from terminal.config.loader import load_config

    DeviceKey.generate().save(state / "device-key.pem")
    pdf = tmp_path / "stand.pdf"
    assert main(["qr", "static", "--pdf", str(pdf), "--serial", "7"]) == 0
    payload = capsys.readouterr().out.strip()
    assert pdf.read_bytes().startswith(b"%PDF")
    assert payload.startswith("00020101021126") and "STAND-000007" in payload
    from terminal.core import emv

    assert emv.find(emv.parse(payload, strict=True), "54") is None
    page = stand_page(payload, load_config(env=dict(os.environ)).config, 7)
    grey = np.asarray(page.convert("L"))
    assert [c.text for c in zxingcpp.read_barcodes(grey)] == [payload]
    before = pdf.read_bytes()
    assert main(["qr", "static", "--pdf", str(pdf)]) == 2  # never over an existing file
    assert pdf.read_bytes() == before
    assert main(["qr", "static", "--pdf", str(pdf), "--force", "--serial", "8"]) == 0


def test_run_as_a_service_ready_then_sigterm(state, tmp_path):
    """The service's main program: READY on $NOTIFY_SOCKET, frames, a clean exit on SIGTERM."""
    DeviceKey.generate().save(state / "device-key.pem")
    (tmp_path / "frames").mkdir()
    notify = tmp_path / "notify"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(notify))
    server.settimeout(60)
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(notify),
        "QR_TERMINAL_DISPLAY": "headless",
        "QR_TERMINAL_CAMERA": "files",
        "QR_TERMINAL__PATHS__CAMERA_FILES": str(tmp_path / "frames"),
        "QR_TERMINAL_INPUT": "script",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "terminal.cli", "run", "--no-platform"],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # Children may write too (timedatectl says ERRNO= where systemd is absent); systemd
        # reads only the main process's (NotifyAccess=main).
        while (message := server.recv(64)) != b"READY=1":
            assert message.startswith(b"ERRNO="), message
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, process.stderr.read()
        assert time.monotonic() - started < 30
        while (message := server.recv(64)) != b"STOPPING=1":
            assert message == b"WATCHDOG=1", message
    finally:
        if process.poll() is None:
            process.kill()
        server.close()
    assert sorted(p.name for p in (state / "screens").iterdir())[0] == "frame-00001.png"


def test_day_filter_uses_the_shops_time_zone():
    from zoneinfo import ZoneInfo

    from terminal.cli.report import day_entries

    class R:
        kind, time_ms = (
            "sale",
            int(datetime.datetime(2026, 9, 21, 15, 30, tzinfo=datetime.UTC).timestamp() * 1000),
        )

    # 15:30 UTC is 00:30 the next day in Seoul.
    assert day_entries([R], datetime.date(2026, 9, 21), ZoneInfo("Asia/Seoul")) == []
