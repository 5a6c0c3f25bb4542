"""Reading the journal without writing it (terminal/ledger/reader.py): beside a running terminal,
and from a stopped terminal's files in a directory this user may not write (a card mounted
read-only). Real SQLite files; 'nobody' stands in for the technician when the tests run as root."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from terminal.app.errors import AppError
from terminal.app.lock import StateLock
from terminal.ledger.health import DatabaseUnreadable, check_database
from terminal.ledger.reader import (
    RUN_LOCK,
    StateDirectoryReadOnly,
    TerminalRunning,
    WalNotReplayable,
    find_record,
    open_journal,
    open_read_only,
    read_records,
    read_since_last_close,
)
from tests.ledger.helpers import (
    clock,
    listing,
    open_ledger,
    pulled_card,
    read_only,
    run_as_nobody,
    sale,
    stopped_terminal,
    writable_again,
)


def nobody_reads(path: Path, *, stopped: bool) -> str:
    """How 'nobody' opened the journal and how many records it read, or what was raised."""

    def work() -> str:
        with open_journal(path, stopped=stopped) as reader:
            return f"{reader.how} {len(reader.records())}"

    return run_as_nobody(work)


@pytest.fixture
def folder(open_folder):
    yield open_folder
    writable_again(open_folder)


def test_a_shared_read_beside_a_running_terminal_sees_its_newest_records(folder):
    ledger = open_ledger(folder)
    for n in range(3):
        sale(ledger, 1000 + n, n)
    assert (folder / "terminal.db-wal").stat().st_size > 0  # the records are in the -wal
    with open_journal(folder / "terminal.db") as reader:
        assert reader.how == "shared" and len(reader.records()) == 3
    sale(ledger, 2000, 3)
    assert len(read_records(folder / "terminal.db")) == 4
    ledger.close()


def test_a_shared_read_of_a_stopped_database_leaves_only_empty_sqlite_files(folder):
    """Measured, and said in the README: SQLite creates an empty -wal and a -shm for a WAL
    reader and leaves them; the database itself is not changed."""
    stopped_terminal(folder)
    before = listing(folder)
    assert len(read_records(folder / "terminal.db")) == 3
    after = listing(folder)
    assert {name: after[name] for name in before} == before
    assert set(after) - set(before) <= {"terminal.db-wal", "terminal.db-shm"}
    assert (folder / "terminal.db-wal").stat().st_size == 0


def test_a_stopped_read_creates_nothing(folder):
    stopped_terminal(folder)
    before = listing(folder)
    with open_journal(folder / "terminal.db", stopped=True) as reader:
        assert reader.how == "immutable" and len(reader.records()) == 3
    assert listing(folder) == before


def test_a_stopped_read_is_refused_while_a_terminal_holds_run_lock(folder):
    stopped_terminal(folder)
    lock = StateLock.take(folder)
    try:
        with pytest.raises(TerminalRunning) as refused:
            open_journal(folder / "terminal.db", stopped=True)
        assert str(folder) in str(refused.value) and "stop it first" in str(refused.value)
        assert "--" not in str(refused.value)  # the ledger names no option: the CLI adds it
        assert len(read_records(folder / "terminal.db")) == 3  # the shared read goes on
    finally:
        lock.close()
    with open_journal(folder / "terminal.db", stopped=True) as reader:
        with pytest.raises(AppError, match="another qr-terminal is running"):
            StateLock.take(folder)  # no terminal starts writing under a stopped read
        assert len(reader.records()) == 3
    StateLock.take(folder).close()  # released with the reader


def test_a_directory_nobody_may_write_needs_the_flag(folder):
    stopped_terminal(folder)
    read_only(folder)
    before = listing(folder)
    refused = nobody_reads(folder / "terminal.db", stopped=False)
    assert StateDirectoryReadOnly.__name__ in refused and "as they are" in refused
    assert "--terminal-stopped" not in refused
    assert str(folder) in refused
    assert nobody_reads(folder / "terminal.db", stopped=True) == "immutable 3"
    assert listing(folder) == before


def test_a_card_with_its_wal_and_shm_is_read_whole_from_a_read_only_directory(folder):
    records, _ = pulled_card(folder / "card", folder / "terminal")
    card = folder / "card"
    read_only(card)
    before = listing(card)
    # What the refusal guards against: an immutable open ignores the -wal's records.
    immutable = open_read_only(card / "terminal.db", immutable=True)
    assert immutable.execute("SELECT COUNT(*) FROM journal").fetchone()[0] < records
    immutable.close()
    assert nobody_reads(card / "terminal.db", stopped=True) == f"wal read-only {records}"
    # Without the flag SQLite reads the same way (the -wal and -shm are already there).
    assert nobody_reads(card / "terminal.db", stopped=False) == f"shared {records}"
    assert listing(card) == before


def test_a_wal_with_records_and_no_shm_is_refused_rather_than_read_in_part(folder):
    pulled_card(folder / "card", folder / "terminal", with_shm=False)
    card = folder / "card"
    read_only(card)
    before = listing(card)
    refused = nobody_reads(card / "terminal.db", stopped=True)
    assert WalNotReplayable.__name__ in refused, refused
    assert "terminal.db-wal" in refused and "copy" in refused
    assert listing(card) == before
    # The copy it asks for: the database and its -wal in a writable folder, read normally.
    copy = folder / "copy"
    copy.mkdir()
    for name in ("terminal.db", "terminal.db-wal"):
        shutil.copyfile(card / name, copy / name)
    assert len(read_records(copy / "terminal.db")) == 4


def test_a_run_lock_it_may_not_open_is_not_taken_for_a_stopped_terminal(folder):
    stopped_terminal(folder)
    lock = folder / RUN_LOCK
    lock.touch(mode=0o600)  # the terminal's, unreadable for 'nobody'
    if os.geteuid() != 0:
        lock.chmod(0o000)
    refused = nobody_reads(folder / "terminal.db", stopped=True)
    assert TerminalRunning.__name__ in refused and "cannot check" in refused, refused


def test_health_says_why_it_cannot_read_a_directory_nobody_may_write(folder):
    """`sync status` and the selftest read the outbox through check_database."""
    stopped_terminal(folder)
    read_only(folder)

    def work() -> str:
        return str(check_database(folder / "terminal.db"))

    refused = run_as_nobody(work)
    assert DatabaseUnreadable.__name__ in refused and "run as the terminal's user" in refused


def test_the_day_since_the_last_close_and_one_record_by_its_id(folder):
    """What the app reads at a close and for a refund: not the whole journal."""
    ledger = open_ledger(folder)
    path = folder / "terminal.db"
    first = sale(ledger, 1000, 0)
    assert [r.seq for r in read_since_last_close(path)] == [1]  # no close yet: everything
    sale(ledger, 1001, 1)
    close = ledger.record_close(clock=clock(5_000))
    assert [r.kind for r in read_since_last_close(path)] == ["close"]
    later = [sale(ledger, 2000 + n, 10 + n) for n in range(2)]
    since = read_since_last_close(path)
    assert [r.seq for r in since] == [close.record.seq, *(s.record.seq for s in later)]
    assert since == read_records(path)[close.record.seq - 1 :]
    assert find_record(path, first.record.txn_id) == read_records(path)[0]
    assert find_record(path, "0190f0f0-0000-7000-8000-00000000dead") is None
    ledger.close()
