"""`journal export` and `report` from a state directory this user may not write (an SD card
mounted read-only for recovery), and beside a running terminal (hostile test M3)."""

from __future__ import annotations

import csv
import importlib
import io
import os
import subprocess
from pathlib import Path

import pytest

from terminal.app.lock import StateLock
from terminal.cli import build_parser, main
from tests.ledger.helpers import (
    cli_output_as_nobody,
    listing,
    open_ledger,
    pulled_card,
    read_only,
    sale,
    stopped_terminal,
    writable_again,
    write_pki,
)

# What the commands import when they run: 'nobody' (the technician, when the tests run as
# root) may not read the interpreter's own library, so everything is loaded here first.
build_parser()  # every command module
for module in ("config.loader", "core.session.report", "provision.layout", "ui.views_manage"):
    importlib.import_module(f"terminal.{module}")  # what `report` imports when it runs
DAY = "2026-11-18"  # tests/ledger/helpers.T0 in Asia/Seoul, the default locale.timezone


@pytest.fixture
def card(open_folder, monkeypatch):
    """A stopped terminal's state directory with its key and PKI, and an output folder."""
    monkeypatch.delenv("QR_TERMINAL_DEVICE_FILE", raising=False)
    state, out = open_folder / "state", open_folder / "out"
    state.mkdir(mode=0o755)
    out.mkdir()
    out.chmod(0o777)  # 'nobody' writes the export here
    yield state, out
    writable_again(state)


def with_key(state, ledger_key):
    """Saves the journal's key where 'nobody' may read it; returns the key's path."""
    key = state / "key.pem"
    ledger_key.save(key)
    if os.geteuid() == 0:
        os.chown(key, 65534, 65534)
    return key


def export_args(state, key, out, *extra):
    return ["journal", "export", "--db", str(state / "terminal.db"), "--key", str(key),
            "--out", str(out), *extra]  # fmt: skip


def test_export_from_a_read_only_directory_needs_the_flag_then_verifies(card, capsys):
    state, out = card
    key_of_journal = stopped_terminal(state)
    key = with_key(state, key_of_journal)
    read_only(state)
    before = listing(state)
    code, _, err = cli_output_as_nobody(export_args(state, key, out / "j.jsonl"))
    assert code == 2, err
    assert err.count("\n") == 1 and str(state) in err and "--terminal-stopped" in err
    assert "Traceback" not in err and list(out.iterdir()) == []
    code, _, err = cli_output_as_nobody(
        export_args(state, key, out / "j.jsonl", "--terminal-stopped")
    )
    assert code == 0, err
    assert listing(state) == before  # nothing created or changed beside the database
    cert, ca = write_pki(out.parent, key_of_journal)
    capsys.readouterr()
    assert (
        main(["journal", "verify", str(out / "j.jsonl"), "--cert", str(cert), "--ca", str(ca)]) == 0
    )
    assert "3 records, 0 problem(s)" in capsys.readouterr().err


def test_report_from_a_read_only_directory_needs_the_flag(card):
    state, _ = card
    stopped_terminal(state)
    read_only(state)
    before = listing(state)
    code, out, err = cli_output_as_nobody(
        ["report", "--day", DAY, "--db", str(state / "terminal.db")]
    )
    assert code == 2 and out == "" and "--terminal-stopped" in err, err
    code, out, err = cli_output_as_nobody(
        ["report", "--day", DAY, "--csv", "--db", str(state / "terminal.db"), "--terminal-stopped"]
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(row["amount_won"]) for row in rows] == [1000, 1001, 1002]
    assert listing(state) == before


def test_export_of_a_card_whose_wal_cannot_be_replayed_is_refused(card):
    state, out = card
    state.rmdir()
    _, key_of_journal = pulled_card(state, state.parent / "terminal", with_shm=False)
    key = with_key(state, key_of_journal)
    read_only(state)
    before = listing(state)
    code, _, err = cli_output_as_nobody(
        export_args(state, key, out / "j.jsonl", "--terminal-stopped")
    )
    assert code == 2 and err.count("\n") == 1, err
    assert "terminal.db-wal" in err and "copy" in err
    assert list(out.iterdir()) == [] and listing(state) == before


def test_export_with_the_flag_is_refused_while_a_terminal_runs_there(card):
    state, out = card
    key = with_key(state, stopped_terminal(state))
    lock = StateLock.take(state)
    try:
        code, _, err = cli_output_as_nobody(
            export_args(state, key, out / "j.jsonl", "--terminal-stopped")
        )
    finally:
        lock.close()
    assert code == 2 and "a terminal is running" in err, err
    assert list(out.iterdir()) == []


def test_export_and_report_beside_a_running_terminal_read_its_newest_records(tmp_path, capsys):
    ledger = open_ledger(tmp_path)
    lock = StateLock.take(tmp_path)  # a terminal: the lock, the open ledger, records in the -wal
    try:
        for n in range(3):
            sale(ledger, 1000 + n, n)
        ledger.key.save(tmp_path / "key.pem")
        export = tmp_path / "j.jsonl"
        assert main(export_args(tmp_path, tmp_path / "key.pem", export)) == 0
        db = str(tmp_path / "terminal.db")
        assert main(["report", "--day", DAY, "--csv", "--db", db]) == 0
        assert capsys.readouterr().out.count("\n") == 4  # the header and three sales
        sale(ledger, 2000, 3)  # the terminal goes on writing after the read
    finally:
        ledger.close()
        lock.close()
    cert, ca = write_pki(tmp_path, ledger.key)
    assert main(["journal", "verify", str(export), "--cert", str(cert), "--ca", str(ca)]) == 0
    assert "3 records, 0 problem(s)" in capsys.readouterr().err


@pytest.fixture
def mount_read_only(open_folder):
    """Shows a folder through a read-only bind mount, as a card mounted read-only for recovery
    (root sees the file system refuse writes, which file modes never do for root)."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root (the chmod tests above cover other users)")
    mounted: list[Path] = []

    def mount(source: Path) -> Path:
        target = open_folder / f"mnt{len(mounted)}"
        target.mkdir()
        if subprocess.run(
            ["mount", "--bind", str(source), str(target)], capture_output=True
        ).returncode:
            pytest.skip(
                "this machine does not let root bind-mount (a container without CAP_SYS_ADMIN)"
            )
        mounted.append(target)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], check=True)
        return target

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", str(target)], check=True)


def test_a_card_mounted_read_only_is_exported_by_root_with_the_flag(
    open_folder, mount_read_only, capsys
):
    source = open_folder / "state"
    source.mkdir()
    key_of_journal = stopped_terminal(source)
    StateLock.take(source).close()  # the terminal ran here: its run.lock is on the card
    key_of_journal.save(source / "key.pem")
    card = mount_read_only(source)
    before = listing(card)
    out = open_folder / "j.jsonl"
    assert main(export_args(card, card / "key.pem", out)) == 2
    err = capsys.readouterr().err
    assert "read-only file system" in err and "--terminal-stopped" in err and not out.exists()
    assert main(export_args(card, card / "key.pem", out, "--terminal-stopped")) == 0
    assert listing(card) == before
    cert, ca = write_pki(open_folder, key_of_journal)
    assert main(["journal", "verify", str(out), "--cert", str(cert), "--ca", str(ca)]) == 0
    assert "3 records, 0 problem(s)" in capsys.readouterr().err


def test_a_card_of_a_terminal_that_lost_power_is_exported_whole(open_folder, mount_read_only):
    source = open_folder / "card"
    records, key_of_journal = pulled_card(source, open_folder / "terminal")
    key_of_journal.save(source / "key.pem")
    card = mount_read_only(source)
    before = listing(card)
    out = open_folder / "j.jsonl"
    assert main(export_args(card, card / "key.pem", out, "--terminal-stopped")) == 0
    assert len(out.read_text().splitlines()) == records + 1  # every record and the end line
    assert listing(card) == before
