"""`qr-terminal journal export` and `journal verify` as a technician runs them."""

from __future__ import annotations

import os

import pytest

from terminal.app.lock import StateLock
from terminal.cli import main
from tests.ledger.helpers import DEVICE, listing, open_ledger, sale, stopped_terminal, write_pki


def test_export_then_verify_passes_and_a_tampered_export_fails(tmp_path, capsys):
    ledger = open_ledger(tmp_path)
    for n in range(3):
        sale(ledger, 1000 + n, n)
    ledger.close()
    ledger.key.save(tmp_path / "key.pem")
    write_pki(tmp_path, ledger.key)
    export = tmp_path / "journal.jsonl"
    db, key, cert, ca = (
        str(tmp_path / n) for n in ("terminal.db", "key.pem", "cert.pem", "ca.pem")
    )
    assert main(["journal", "export", "--db", db, "--key", key, "--out", str(export)]) == 0
    assert main(["journal", "verify", str(export), "--cert", cert, "--ca", ca]) == 0
    assert "3 records, 0 problem(s)" in capsys.readouterr().err
    lines = export.read_text().splitlines()
    export.write_text("\n".join([lines[0], lines[2], lines[1], lines[3]]) + "\n")
    assert main(["journal", "verify", str(export), "--cert", cert, "--ca", ca]) == 1
    out = capsys.readouterr().out
    assert "seq 3: counter jumps" in out and "chain broken" in out


def test_export_of_a_missing_database_is_an_error(tmp_path, capsys):
    key = tmp_path / "key.pem"
    open_ledger(tmp_path).key.save(key)
    out = tmp_path / "out.jsonl"
    args = ["journal", "export", "--db", str(tmp_path / "none.db"), "--key", str(key)]
    assert main([*args, "--out", str(out)]) == 2
    assert "no such database" in capsys.readouterr().err
    assert not out.exists()


def test_export_without_a_key_writes_no_file(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    open_ledger(tmp_path).close()
    assert (
        main(["journal", "export", "--db", str(tmp_path / "terminal.db"), "--out", str(out)]) == 2
    )
    assert "--key" in capsys.readouterr().err
    assert not out.exists()


def _stopped_with_key(folder):
    key = stopped_terminal(folder)
    key.save(folder / "key.pem")
    db, key_file = str(folder / "terminal.db"), str(folder / "key.pem")
    return ["journal", "export", "--db", db, "--key", key_file]


def test_out_dash_is_stdout_not_a_file_named_dash(tmp_path, capsys, monkeypatch):
    args = _stopped_with_key(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main([*args, "--out", "-"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 4  # 3 records and the end line
    assert not (tmp_path / "-").exists()


def test_the_terminals_run_lock_is_never_an_export_target(tmp_path, capsys):
    args = _stopped_with_key(tmp_path)
    StateLock.take(tmp_path).close()  # a terminal ran here
    before = listing(tmp_path)
    assert main([*args, "--out", str(tmp_path / "run.lock"), "--force"]) == 2
    assert "run.lock" in capsys.readouterr().err and listing(tmp_path) == before


def test_a_bad_out_is_refused_before_the_database_is_opened(tmp_path, capsys):
    args = _stopped_with_key(tmp_path)
    before = listing(tmp_path)
    (tmp_path / "outdir").mkdir()
    assert main([*args, "--out", str(tmp_path / "outdir")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "outdir: is a directory" in err
    (tmp_path / "outdir").rmdir()
    assert listing(tmp_path) == before  # not even SQLite's -wal and -shm


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda path: path.mkdir(), "not a regular file"),
        (lambda path: os.mkfifo(path), "not a regular file"),
        (lambda path: path.write_bytes(b""), "empty file"),
    ],
)
def test_a_db_that_is_not_a_database_file_says_what_it_is(tmp_path, capsys, make, says):
    make(tmp_path / "terminal.db")
    for argv in (
        ["report", "--day", "2026-11-18", "--db", str(tmp_path / "terminal.db")],
        ["journal", "export", "--db", str(tmp_path / "terminal.db"), "--key", str(tmp_path)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and says in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["terminal.db"]


@pytest.mark.parametrize("day", ["20261118", "2026-W47-3", "2026-11-18T00:00"])
def test_report_takes_only_yyyy_mm_dd(tmp_path, capsys, day):
    stopped_terminal(tmp_path)
    assert main(["report", "--day", day, "--db", str(tmp_path / "terminal.db")]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_the_report_names_the_journals_device_not_this_machines(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("QR_TERMINAL_DEVICE_FILE", raising=False)
    stopped_terminal(tmp_path)
    assert main(["report", "--day", "2026-11-18", "--db", str(tmp_path / "terminal.db")]) == 0
    heading = capsys.readouterr().out.splitlines()[0]
    assert heading == f"{DEVICE} · 2026-11-18", heading
