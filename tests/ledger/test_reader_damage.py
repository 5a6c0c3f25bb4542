"""Stopped-terminal reads of files that are not what they seem (hostile review 2): a symlinked
database, a -wal SQLite would skip, a writable card's -shm, a fifo as run.lock, a damaged
record. Real SQLite files in real folders."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.app.lock import StateLock
from terminal.cli import main
from terminal.ledger.errors import LedgerCorrupt
from terminal.ledger.reader import (
    ReadRefused,
    TerminalRunning,
    WalNotReplayable,
    open_journal,
    read_records,
)
from terminal.ledger.wal import HEADER_BYTES, wal_problem
from tests.ledger.helpers import listing, pulled_card, stopped_terminal


@pytest.fixture
def card(tmp_path) -> tuple[Path, int]:
    """A writable copy of a running terminal's card: database, -wal with 3 of 4 records, -shm."""
    records, _ = pulled_card(tmp_path / "card", tmp_path / "terminal")
    return tmp_path / "card", records


def test_a_symlinked_database_is_read_from_its_own_folder(card, tmp_path):
    folder, records = card
    other = tmp_path / "other"
    other.mkdir()
    (other / "terminal.db").symlink_to(folder / "terminal.db")
    lock = StateLock.take(folder)
    try:  # the real folder's terminal runs: the link's folder has no run.lock to tell
        with pytest.raises(TerminalRunning):
            open_journal(other / "terminal.db", stopped=True)
    finally:
        lock.close()
    # Without the link's -wal-less folder fooling it, every record is there (not 1 of 4).
    assert len(read_records(other / "terminal.db", stopped=True)) == records


def test_a_writable_cards_files_are_not_rewritten_by_a_stopped_read(card):
    folder, records = card
    before = listing(folder)
    with open_journal(folder / "terminal.db", stopped=True) as reader:
        assert reader.how == "wal copy" and len(reader.records()) == records
        scratch = reader._scratch
        assert scratch is not None and scratch.is_dir()
    assert listing(folder) == before  # the -shm too
    assert not scratch.exists()


@pytest.mark.parametrize(
    "spoil, says",
    [
        (lambda data: os.urandom(len(data)), "WAL header"),
        (lambda data: data[: len(data) // 2 + 13], "cut short"),
        (lambda data: data[:20] + bytes([data[20] ^ 1]) + data[21:], "checksum"),
    ],
)
def test_a_wal_sqlite_would_skip_is_refused_not_read_short(card, spoil, says):
    folder, _ = card
    wal = folder / "terminal.db-wal"
    wal.write_bytes(spoil(wal.read_bytes()))
    before = listing(folder)
    with pytest.raises(WalNotReplayable, match=says):
        open_journal(folder / "terminal.db", stopped=True)
    assert listing(folder) == before


def test_a_fifo_as_run_lock_is_refused_at_once(tmp_path):
    stopped_terminal(tmp_path)
    os.mkfifo(tmp_path / "run.lock")
    with pytest.raises(ReadRefused, match="not a regular file"):
        open_journal(tmp_path / "terminal.db", stopped=True)


def _damage_record(database: Path, seq: int, jws: str) -> None:
    """A bit flip on the card: the append-only trigger is dropped in this scratch copy only."""
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("DROP TRIGGER journal_append_only")
    connection.execute("UPDATE journal SET jws = ? WHERE seq = ?", (jws, seq))
    connection.close()


@pytest.mark.parametrize("jws", ["garbage", "a.!!!!.b", "a.bm90IGpzb24.b"])
def test_a_damaged_record_is_one_line_naming_its_seq(tmp_path, monkeypatch, capsys, jws):
    monkeypatch.delenv("QR_TERMINAL_DEVICE_FILE", raising=False)
    stopped_terminal(tmp_path)
    _damage_record(tmp_path / "terminal.db", 2, jws)
    with pytest.raises(LedgerCorrupt, match="seq 2 is damaged"):
        read_records(tmp_path / "terminal.db")
    argv = ["report", "--day", "2026-11-18", "--db", str(tmp_path / "terminal.db")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "seq 2" in err and "journal verify" in err


def test_any_change_to_the_wal_header_or_a_cut_is_seen(card):
    folder, _ = card
    data = (folder / "terminal.db-wal").read_bytes()
    spoiled = folder / "spoiled-wal"
    assert wal_problem(folder / "terminal.db-wal") is None

    @settings(max_examples=100, deadline=None)
    @given(st.integers(0, HEADER_BYTES - 1), st.integers(1, 255), st.integers(1, 4119))
    def check(index, flip, cut):
        spoiled.write_bytes(data[:index] + bytes([data[index] ^ flip]) + data[index + 1 :])
        assert wal_problem(spoiled) is not None
        spoiled.write_bytes(data[:-cut])  # frames are 24 + 4096 bytes here
        assert wal_problem(spoiled) is not None

    check()


def test_a_record_edited_on_the_card_breaks_the_chain_for_report(tmp_path, monkeypatch, capsys):
    """Hostile review 2 M7: an amount edited 1001 → 1 (signature left as it was) was summed."""
    import dataclasses

    from terminal.ledger.reader import payload_record
    from terminal.signing import b64url

    monkeypatch.delenv("QR_TERMINAL_DEVICE_FILE", raising=False)
    stopped_terminal(tmp_path)
    database = tmp_path / "terminal.db"
    ((_, jws),) = sqlite3.connect(database).execute("SELECT seq, jws FROM journal WHERE seq = 2")
    edited = dataclasses.replace(payload_record(jws), amount_won=1, list_won=1)
    header, _, signature = jws.split(".")
    _damage_record(database, 2, f"{header}.{b64url(edited.canonical())}.{signature}")
    assert len(read_records(database)) == 3  # each row still decodes on its own
    with pytest.raises(LedgerCorrupt, match="chain breaks at seq 3"):
        read_records(database, chained=True)
    assert main(["report", "--day", "2026-11-18", "--db", str(database)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "seq 3" in err and "journal verify" in err
