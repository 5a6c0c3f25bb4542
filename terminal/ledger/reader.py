"""Reading the journal without writing it: the journal's SELECTs (whole, since the last close, one
record), and the two ways to open the database read-only: beside a running terminal (SQLite's
shared WAL read), or from a stopped terminal's files, e.g. an SD card mounted read-only (nothing
is created or changed beside the database)."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from terminal.core.records import GENESIS_HASH, Record, chain_hash, record_from_json
from terminal.ledger.errors import LedgerCorrupt, LedgerError, LedgerReadOnly, translate
from terminal.ledger.wal import wal_problem
from terminal.signing import b64url_decode

# The only query that reads the whole journal; Ledger.export_lines and the CLI both use it.
JOURNAL_SELECT = "SELECT seq, jws, hash FROM journal ORDER BY seq"
# The newest day close and what follows it: all a day's figures need, however long the journal.
SINCE_CLOSE_SELECT = (
    "SELECT seq, jws, hash FROM journal WHERE seq >= "
    "(SELECT COALESCE(MAX(seq), 0) FROM journal WHERE kind = 'close') ORDER BY seq"
)
# The flock a running terminal holds beside its database (the app's StateLock takes it under
# this name: the app may import the ledger, not the other way round).
RUN_LOCK = "run.lock"
# How open_journal opened the files: SQLite's shared read beside a running terminal, a stopped
# terminal's database alone (`immutable=1`), or its database and -wal read in place.
How = Literal["shared", "immutable", "wal read-only", "wal copy"]


class ReadRefused(LedgerError):
    """The journal cannot be read this way; the message says what to do instead (the command
    line adds its own option's name: the ledger names none). Nothing was created or changed."""


class StateDirectoryReadOnly(ReadRefused):
    """A read beside a running terminal needs SQLite's -wal and -shm files, and the directory
    does not have them and may not get them."""


class TerminalRunning(ReadRefused):
    """A stopped-terminal read was asked while a terminal holds the directory's run.lock (or
    while that cannot be checked)."""


class WalNotReplayable(ReadRefused):
    """The -wal file holds records that a stopped-terminal read cannot replay here, or that
    SQLite would silently skip (a damaged or cut-short -wal): reading the database alone would
    export a journal missing its newest records."""


def journal_rows(connection: sqlite3.Connection) -> Iterator[tuple[int, str, str]]:
    """(seq, jws, hash) of every record in seq order."""
    return connection.execute(JOURNAL_SELECT)


def first_device(connection: sqlite3.Connection) -> str | None:
    """The device id the journal's first record names (None for an empty journal)."""
    row = connection.execute("SELECT seq, jws FROM journal ORDER BY seq LIMIT 1").fetchone()
    return stored_record(row[0], row[1]).device_id if row else None


def payload_record(jws: str) -> Record:
    """The record inside one of our own JWS texts (signature already trusted: we wrote it)."""
    return record_from_json(b64url_decode(jws.split(".")[1]))


def stored_record(seq: int, jws: str) -> Record:
    """The record of journal row `seq`; a row that does not decode (a flipped bit on the card)
    is LedgerCorrupt naming it, not a traceback."""
    try:
        return payload_record(jws)
    except (ValueError, IndexError, KeyError, TypeError, AttributeError) as error:
        raise LedgerCorrupt(
            f"journal record seq {seq} is damaged ({' '.join(str(error).split())[:120]}); "
            "export the journal and check it with `qr-terminal journal verify`"
        ) from None


class JournalReader:
    """A read-only connection to the journal, and the shared run.lock a stopped-terminal read
    holds meanwhile (so that no terminal starts writing under it). Use as a context manager."""

    def __init__(
        self,
        path: Path,
        connection: sqlite3.Connection,
        lock: int | None,
        how: How,
        scratch: Path | None = None,
    ):
        self.path = path
        self.connection = connection
        self.how: How = how
        self._lock = lock
        self._scratch = scratch  # a private copy of the files ("wal copy"), removed on close

    def rows(self) -> Iterator[tuple[int, str, str]]:
        return journal_rows(self.connection)

    def records(self, query: str = JOURNAL_SELECT, *parameters) -> list[Record]:
        """The records `query` selects (seq, jws, hash), by default the whole journal."""
        try:
            rows = self.connection.execute(query, parameters)
            return [stored_record(seq, jws) for seq, jws, _ in rows]
        except sqlite3.Error as error:
            raise translate(error, self.path) from None

    def chained_records(self) -> list[Record]:
        """Every record, checked to be one unbroken chain: seq 1, 2, 3, … each naming the hash
        of the JWS before it, so a row changed (but the last), removed or inserted on the card
        is LedgerCorrupt naming where. Signatures are `journal verify`'s job (it needs the
        device certificate)."""
        records: list[Record] = []
        previous = GENESIS_HASH
        try:
            for seq, jws, _ in self.rows():
                record = stored_record(seq, jws)
                if record.seq != seq or seq != len(records) + 1 or record.prev_hash != previous:
                    raise LedgerCorrupt(
                        f"{self.path}: the journal's chain breaks at seq {seq} (a record was "
                        "changed, removed or inserted); export the journal and check it with "
                        "`qr-terminal journal verify`"
                    )
                records.append(record)
                previous = chain_hash(jws)
        except sqlite3.Error as error:
            raise translate(error, self.path) from None
        return records

    def first_device(self) -> str | None:
        try:
            return first_device(self.connection)
        except sqlite3.Error as error:
            raise translate(error, self.path) from None

    def close(self) -> None:
        self.connection.close()
        if self._lock is not None:
            os.close(self._lock)  # releases the shared flock
            self._lock = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def read_records(path: Path, *, stopped: bool = False, chained: bool = False) -> list[Record]:
    """Every record of the journal at `path`, oldest first (see open_journal for `stopped`);
    `chained` checks the hash chain on the way (JournalReader.chained_records)."""
    with open_journal(path, stopped=stopped) as reader:
        return reader.chained_records() if chained else reader.records()


def database_problem(path: Path) -> str | None:
    """Why `path` cannot be a terminal's database file, or None: for a one-line refusal before
    SQLite says something less helpful."""
    if not path.exists():
        return "no such database; give the terminal's database file (terminal.db)"
    if not path.is_file():
        return "not a regular file (a folder, a fifo or a device); give the terminal's terminal.db"
    if path.stat().st_size == 0:
        return "an empty file, not a terminal's journal; give the terminal's terminal.db"
    return None


def read_since_last_close(path: Path) -> list[Record]:
    """The newest day close (if any) and every record after it: what the next close covers.
    The app's day close reads this, not the whole journal: with 20,000 records and a close
    100 records back, 17 ms against 516 ms for all of them (dev machine, median of 5)."""
    with open_journal(path) as reader:
        return reader.records(SINCE_CLOSE_SELECT)


def find_record(path: Path, txn_id: str) -> Record | None:
    """The record with this transaction id (the journal's unique index), or None."""
    with open_journal(path) as reader:
        query = "SELECT seq, jws, hash FROM journal WHERE txn_id = ?"
        found = reader.records(query, txn_id)
    return found[0] if found else None


def open_journal(path: Path, *, stopped: bool = False) -> JournalReader:
    """The journal at `path`, opened without writing it.

    Default: SQLite's shared read (`mode=ro`), right beside a running terminal. In WAL mode a
    reader needs the -wal and -shm files: SQLite creates them if they are absent (an empty
    -wal and a 32 KB -shm, left behind; the database itself is not touched). Where they are
    absent and cannot be created (a read-only directory), this raises StateDirectoryReadOnly.

    `stopped=True` (the caller promises no terminal writes these files): refused while a
    terminal holds run.lock, which is then held shared until close. A symlinked `path` is
    followed first, so that the -wal, -shm and run.lock looked at are the database's own. With
    no -wal content the database is opened `immutable=1` (no locks, no file created). With -wal
    content: refused (WalNotReplayable) when SQLite would skip some of it (wal.py) or when no
    -shm is beside it; else, where this user may not write the files, `mode=ro` in place
    (SQLite replays the WAL in memory, creating nothing); where it may, SQLite would rewrite
    the -shm, so a private copy of the database and -wal is read instead ("wal copy").

    Every way runs `PRAGMA quick_check` first, the app's own reads too: on a journal of 20,000
    records it took 22-35 ms against 0.7-1.0 s for reading the records themselves (measured
    2026-11-22 on the 2-core dev machine), so skipping it would not be worth a damaged page
    going unnoticed."""
    path = Path(path).resolve()  # a link's own folder holds neither the -wal nor run.lock
    if path.is_file() and not os.access(path, os.R_OK):
        # Else SQLite's "unable to open" would read as a directory problem, which it is not.
        raise ReadRefused(f"{path}: this user may not read it; run as root or the terminal's user")
    if not stopped:
        try:
            return JournalReader(path, open_read_only(path), None, "shared")
        except LedgerReadOnly:
            if writable(path.parent):
                raise
            raise StateDirectoryReadOnly(
                f"{read_only_hint(path.parent)}; run as the terminal's user, or copy the "
                "directory first, or read the files as they are if no terminal writes them"
            ) from None
    lock = hold_run_lock(path.parent)
    try:
        return _open_stopped(path, lock)
    except BaseException:
        if lock is not None:
            os.close(lock)
        raise


def _open_stopped(path: Path, lock: int | None) -> JournalReader:
    wal = path.with_name(path.name + "-wal")
    shm = path.with_name(path.name + "-shm")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    if wal_bytes == 0:
        return JournalReader(path, open_read_only(path, immutable=True), lock, "immutable")
    if problem := wal_problem(wal):
        raise WalNotReplayable(
            f"{wal} holds {wal_bytes} bytes that should be the journal's newest records, but "
            f"SQLite would skip them: {problem}; use a whole copy of the card's {wal.name}, or, "
            f"to read what SQLite can replay, copy {path.name} and {wal.name} to a writable "
            "folder and read the copy"
        )
    if not shm.exists():
        raise WalNotReplayable(
            f"{wal} holds {wal_bytes} bytes of the journal's newest records (the terminal did "
            f"not shut down cleanly), and without {shm.name} SQLite cannot replay them in "
            f"place: copy {path.name} and {wal.name} to a writable folder and read the copy"
        )
    if not (os.access(shm, os.W_OK) or writable(path.parent)):
        # SQLite reads a WAL whose -shm it may not write into heap memory (measured: any -shm
        # content, even empty, gives every committed record); nothing is created.
        return JournalReader(path, open_read_only(path), lock, "wal read-only")
    # Here SQLite would rewrite the -shm (hostile review 2, M5): read a private copy instead.
    scratch = Path(tempfile.mkdtemp(prefix="qr-terminal-journal-"))
    try:
        for source in (path, wal):
            shutil.copyfile(source, scratch / source.name)
        return JournalReader(path, open_read_only(scratch / path.name), lock, "wal copy", scratch)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def open_read_only(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """A read-only connection, refused if the file is damaged or holds no journal. `immutable`
    tells SQLite the files cannot change: it takes no locks and ignores -wal and -shm, which is
    right only when no terminal writes them and the -wal is empty (see open_journal)."""
    query = "mode=ro&immutable=1" if immutable else "mode=ro"
    uri = f"{path.resolve().as_uri()}?{query}"
    try:
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.Error as error:
        raise translate(error, path) from None
    try:
        check = connection.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise LedgerCorrupt(f"{path} is damaged ({check}); its content was not changed")
        connection.execute("SELECT 1 FROM journal LIMIT 1")
    except sqlite3.Error as error:
        connection.close()
        raise translate(error, path) from None
    except BaseException:
        connection.close()
        raise
    return connection


def hold_run_lock(directory: Path) -> int | None:
    """A shared flock on the directory's run.lock (its descriptor), None when no terminal ever
    ran there; raises TerminalRunning while a terminal holds it, or when it cannot be checked
    on a file system a terminal could be writing."""
    lock = directory / RUN_LOCK
    try:
        # Non-blocking: opening a fifo planted as run.lock would wait for a writer for ever.
        descriptor = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        return _unchecked(lock, error.strerror or str(error))
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise ReadRefused(
            f"{lock} is not a regular file (a terminal's run.lock is one); remove it if no "
            "terminal runs here, or check what made it"
        )
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise TerminalRunning(
            f"{directory}: a terminal is running on this state directory (it holds {lock}); "
            "reading the files as they are is only for files no terminal writes: stop it "
            "first (systemctl stop qr-terminal)"
        ) from None
    except OSError as error:
        os.close(descriptor)
        return _unchecked(lock, error.strerror or str(error))
    return descriptor


def _unchecked(lock: Path, reason: str) -> None:
    """A lock that cannot be read or taken: harmless on a read-only file system (no terminal
    writes through this mount), else the read is refused."""
    if _read_only_file_system(lock.parent):
        return None
    raise TerminalRunning(
        f"{lock}: cannot check whether a terminal is running here ({reason}); run as root or "
        "as the terminal's user"
    )


def _read_only_file_system(directory: Path) -> bool:
    try:
        return bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def writable(directory: Path) -> bool:
    """Whether this process may create files in `directory` (False on a read-only mount)."""
    return os.access(directory, os.W_OK | os.X_OK)


def not_writable_because(directory: Path) -> str:
    """Why `directory` is not writable, in a few words: the mount, or this user's rights."""
    if _read_only_file_system(directory):
        return "a read-only file system"
    return "not by this user"


def read_only_hint(directory: Path) -> str:
    """Why a read beside a running terminal fails in `directory` (the one wording of it, for the
    journal reader and the health check)."""
    return (
        f"the state directory {directory} is not writable ({not_writable_because(directory)}), "
        "and a read beside a running terminal needs SQLite's -wal and -shm files there"
    )
