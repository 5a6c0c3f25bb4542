"""Log hygiene over a whole demo day: every log record (all loggers at DEBUG), stdout and stderr
are searched for the device key, the signed records, customer tokens (QR text and numeric
codes) and token ids; none may appear. journald stores exactly these lines (stderr with
SyslogLevelPrefix), so what is clean here is clean in the journal."""

from __future__ import annotations

import json
import logging
import re
import sqlite3

from terminal.cli import main

TOKEN_TEXT = re.compile(r"EU1:[0-9A-Z $%*+\-./:]{20,}")
NUMERIC_CODE = re.compile(r"(?<![0-9])97[0-9]{19,22}(?![0-9])")


def test_a_demo_day_logs_no_key_token_or_record(tmp_path, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    workdir = tmp_path / "day"
    assert main(["demo", "--headless", "--workdir", str(workdir)]) == 0
    captured = capfd.readouterr()
    logged = "\n".join([*(r.getMessage() for r in caplog.records), captured.out, captured.err])
    assert logged.strip(), "the demo printed nothing: the search below would prove nothing"

    # The device's key, and the simulated platform's keys for good measure.
    key_files = sorted(workdir.rglob("*key*.pem"))
    assert any(p.name == "device-key.pem" for p in key_files)
    key_lines = [line for p in key_files for line in p.read_text().splitlines()[1:-1]]
    for line in key_lines:
        assert line not in logged
    assert "PRIVATE KEY" not in logged

    records = [
        json.loads(line)["jws"]
        for line in (workdir / "journal.jsonl").read_text().splitlines()
        if '"jws"' in line
    ]
    assert records
    for jws in records:
        assert jws.split(".")[2] not in logged  # a signature
        assert jws.split(".")[1][:40] not in logged  # a payload

    [database] = [p for p in workdir.rglob("terminal.db")]
    with sqlite3.connect(database) as db:
        token_ids = [row[0] for row in db.execute("SELECT token_id FROM journal") if row[0]]
    assert token_ids  # the day had a customer token
    for token_id in token_ids:
        assert token_id not in logged
    assert not TOKEN_TEXT.search(logged)
    assert not NUMERIC_CODE.search(logged)
