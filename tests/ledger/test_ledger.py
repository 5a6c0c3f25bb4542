"""The ledger on a real SQLite file: one transaction per event, refunds bounded, outbox states,
and the faults it must survive (full disk, read-only, corruption)."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from terminal.core.benefits import Benefits
from terminal.core.offline import Unsynced
from terminal.ledger.errors import (
    LedgerBusy,
    LedgerConstraint,
    LedgerCorrupt,
    LedgerFull,
    LedgerMissing,
    LedgerReadOnly,
    RefundRefused,
    TokenReplayed,
)
from terminal.ledger.schema import SCHEMA_VERSION, connect
from terminal.ledger.store import payload_record
from terminal.ledger.verify import verify_export
from terminal.signing import DeviceKey
from tests.ledger.helpers import (
    DEVICE,
    T0,
    certificate_key,
    clock,
    open_ledger,
    run_as_nobody,
    sale,
)


def test_a_sale_is_journaled_queued_and_counted_in_one_go(tmp_path):
    ledger = open_ledger(tmp_path)
    recorded = sale(ledger, 12000, offline=True, token="T1")
    record = recorded.record
    assert (record.seq, record.kind, record.method, record.amount_won) == (1, "sale", "cpm", 12000)
    assert record.device_id == DEVICE and record.offline and record.clock_synced
    assert record.refs == {"token_id": "T1"} and record.benefits["total_won"] == 1200 + 240 + 120
    assert ledger.seen("T1")
    assert ledger.unsynced() == Unsynced(12000, 1, T0)
    assert ledger.queue() == (1, T0)
    assert payload_record(recorded.jws) == record


def test_sequence_is_gap_free_across_restarts_and_the_chain_verifies(tmp_path):
    key = None
    ledger = open_ledger(tmp_path)
    key = ledger.key
    for n in range(3):
        sale(ledger, 1000 + n, n)
    ledger.close()
    ledger = open_ledger(tmp_path, key)
    assert sale(ledger, 5000, 4).record.seq == 4
    lines = list(ledger.export_lines(T0 + 10_000))
    assert verify_export(lines, certificate_key(key)) == []
    assert [json.loads(line).get("seq") for line in lines] == [1, 2, 3, 4, None]


def test_replayed_token_is_refused_and_nothing_is_written(tmp_path):
    ledger = open_ledger(tmp_path)
    sale(ledger, 1000, offline=True, token="T1")
    with pytest.raises(TokenReplayed):
        sale(ledger, 1000, 1, offline=True, token="T1")
    assert ledger.db.execute("SELECT COUNT(*) FROM journal").fetchone() == (1,)
    assert ledger.unsynced().count == 1
    assert sale(ledger, 2000, 2).record.seq == 2  # the counter did not skip


def test_refunds_never_exceed_the_sale_and_reverse_benefits_exactly(tmp_path):
    ledger = open_ledger(tmp_path)
    original = sale(ledger, 10001).record
    first = ledger.record_refund(original_txn=original.txn_id, amount_won=3333, clock=clock(1000))
    with pytest.raises(RefundRefused, match="exceeds"):
        ledger.record_refund(original_txn=original.txn_id, amount_won=6669, clock=clock(2000))
    void = ledger.record_refund(
        original_txn=original.txn_id, amount_won=0, clock=clock(3000), void=True
    )
    assert void.record.kind == "void" and void.record.amount_won == 10001 - 3333
    total = first.record.benefits["total_won"] + void.record.benefits["total_won"]
    assert total == -original.benefits["total_won"]
    with pytest.raises(RefundRefused):
        ledger.record_refund(original_txn=original.txn_id, amount_won=1, clock=clock(4000))
    with pytest.raises(RefundRefused, match="no sale"):
        ledger.record_refund(original_txn="nope", amount_won=1, clock=clock(5000))
    with pytest.raises(RefundRefused, match="no sale"):  # a refund of a refund
        ledger.record_refund(original_txn=first.record.txn_id, amount_won=1, clock=clock(6000))


def test_day_close_totals_by_kind_and_method_and_covers_a_seq_range(tmp_path):
    ledger = open_ledger(tmp_path)
    a = sale(ledger, 1000).record
    sale(ledger, 2000, 1, offline=True, token="T")
    ledger.record_refund(original_txn=a.txn_id, amount_won=400, clock=clock(2000))
    close = ledger.record_close(clock=clock(3000)).record
    assert close.kind == "close" and close.method is None and close.seq == 4
    assert close.close["from_seq"] == 1 and close.close["to_seq"] == 3
    assert close.close["totals"] == {
        "sale_mpm": {"count": 1, "amount_won": 1000},
        "sale_cpm": {"count": 1, "amount_won": 2000},
        "refund_mpm": {"count": 1, "amount_won": 400},
    }
    sale(ledger, 500, 5)
    assert ledger.record_close(clock=clock(6000)).record.close["from_seq"] == 5


def test_outbox_states_and_crash_reclaim(tmp_path):
    ledger = open_ledger(tmp_path)
    key = ledger.key
    for n in range(4):
        sale(ledger, 1000, n, offline=True, token=f"T{n}")
    claimed = ledger.claim(3, T0 + 9000)
    assert [payload_record(jws).seq for _, jws in claimed] == [1, 2, 3]
    ledger.close()  # a crash while sending: rows stay 'sending'
    ledger = open_ledger(tmp_path, key)
    states = dict(ledger.db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
    assert states == {"pending": 4}
    claimed = [txn for txn, _ in ledger.claim(4, T0 + 10_000)]
    ledger.settle(accepted=claimed[:2], rejected={claimed[2]: "409 conflict"}, retry=[claimed[3]])
    rows = dict(ledger.db.execute("SELECT txn_id, state FROM outbox").fetchall())
    assert [rows[t] for t in claimed] == ["accepted", "accepted", "rejected", "pending"]
    reason = ledger.db.execute(
        "SELECT reason FROM outbox WHERE txn_id = ?", (claimed[2],)
    ).fetchone()
    assert reason == ("409 conflict",)
    # Accepted rows leave the offline totals; the rejected one is still unsynced money.
    assert ledger.unsynced().count == 2 and ledger.unsynced().total_won == 2000
    assert ledger.queue()[0] == 1


def test_full_disk_refuses_the_sale_and_records_nothing_half_way(tmp_path):
    ledger = open_ledger(tmp_path)
    sale(ledger, 1000)
    pages = ledger.db.execute("PRAGMA page_count").fetchone()[0]
    ledger.db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(LedgerFull):
        for n in range(1, 200):
            sale(ledger, 1000, n, offline=True, token=f"T{n}")
    count = ledger.db.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
    assert ledger.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == count
    assert ledger.unsynced().count == count - 1
    assert ledger.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert verify_export(list(ledger.export_lines(T0)), certificate_key(ledger.key)) == []


def test_read_only_database_refuses_the_sale_clearly(tmp_path):
    ledger = open_ledger(tmp_path)
    ledger.db.execute("PRAGMA query_only = ON")  # as a read-only remount looks to SQLite
    with pytest.raises(LedgerReadOnly):
        sale(ledger, 1000)
    ledger.db.execute("PRAGMA query_only = OFF")
    assert sale(ledger, 1000).record.seq == 1


def test_corrupt_database_is_detected_at_start_and_left_untouched(tmp_path):
    ledger = open_ledger(tmp_path)
    for n in range(30):
        sale(ledger, 1000, n)
    ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ledger.close()
    path = tmp_path / "terminal.db"
    data = bytearray(path.read_bytes())
    for page in range(1, len(data) // 4096):  # scribble over every page header but the first
        data[page * 4096 : page * 4096 + 12] = b"\xa5" * 12
    path.write_bytes(bytes(data))
    with pytest.raises(LedgerCorrupt, match="content was not changed"):
        open_ledger(tmp_path)
    assert path.read_bytes() == bytes(data)


def test_garbage_file_is_corrupt_not_overwritten(tmp_path):
    path = tmp_path / "terminal.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerCorrupt):
        open_ledger(tmp_path)
    assert path.read_bytes() == b"this is not a database" * 100


def test_newer_schema_is_refused(tmp_path):
    db = connect(tmp_path / "terminal.db")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    from terminal.ledger.errors import SchemaTooNew

    with pytest.raises(SchemaTooNew):
        open_ledger(tmp_path)


def test_database_settings_are_durable(tmp_path):
    ledger = open_ledger(tmp_path)
    assert ledger.db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert ledger.db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    plain = sqlite3.connect(tmp_path / "terminal.db")
    assert plain.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_trusted_time_only_moves_forward(tmp_path):
    ledger = open_ledger(tmp_path)
    ledger.note_trusted_time(T0 + 5000)
    ledger.note_trusted_time(T0)
    assert ledger.last_trusted_ms() == T0 + 5000


def test_a_token_used_online_is_in_the_seen_set_and_refused_offline(tmp_path):
    ledger = open_ledger(tmp_path)
    online = sale(ledger, 1000, offline=False, token="T-ONLINE")
    assert online.record.refs == {"token_id": "T-ONLINE"} and not online.record.offline
    assert ledger.seen("T-ONLINE")
    with pytest.raises(TokenReplayed):
        sale(ledger, 1000, 1, offline=True, token="T-ONLINE")
    with pytest.raises(TokenReplayed):
        sale(ledger, 1000, 2, offline=False, token="T-ONLINE")
    assert ledger.unsynced().count == 0 and ledger.queue()[0] == 1


def test_errors_are_classified_by_sqlite_code_not_by_message_text(tmp_path):
    ledger = open_ledger(tmp_path)
    # A constraint whose message says "disk full" and "readonly" is still a constraint.
    ledger.db.execute(
        "CREATE TEMP TRIGGER misleading BEFORE INSERT ON journal "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full; readonly'); END"
    )
    with pytest.raises(LedgerConstraint):
        sale(ledger, 1000)
    ledger.db.execute("DROP TRIGGER temp.misleading")
    assert sale(ledger, 1000).record.seq == 1


def test_a_database_held_by_another_process_is_busy_and_retryable(tmp_path):
    ledger = open_ledger(tmp_path)
    ledger.db.execute("PRAGMA busy_timeout = 0")  # fail at once instead of after 5 s
    other = sqlite3.connect(tmp_path / "terminal.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(LedgerBusy) as busy:
        sale(ledger, 1000)
    assert busy.value.retry and "SQLITE_BUSY" in str(busy.value)
    other.execute("ROLLBACK")
    assert sale(ledger, 1000).record.seq == 1


def test_a_read_only_state_directory_is_reported_as_such(open_folder):
    ledger = open_ledger(open_folder)
    sale(ledger, 1000)
    key = ledger.key
    ledger.close()
    os.chmod(open_folder / "terminal.db", 0o666)
    open_folder.chmod(0o755)  # root's directory: 'nobody' may read, not create -wal/-shm

    def open_as_nobody() -> str:
        open_ledger(open_folder, key)
        return "opened"

    message = run_as_nobody(open_as_nobody)
    assert "LedgerReadOnly" in message and "state directory" in message, message
    assert "chmod" in message and "attempt to write" not in message


def test_a_read_only_database_file_is_reported_as_such(open_folder):
    ledger = open_ledger(open_folder)
    sale(ledger, 1000)
    key = ledger.key
    ledger.close()
    os.chmod(open_folder / "terminal.db", 0o644)
    open_folder.chmod(0o777)

    def record_as_nobody() -> str:
        sale(open_ledger(open_folder, key), 1000, 1)
        return "recorded"

    message = run_as_nobody(record_as_nobody)
    assert "LedgerReadOnly" in message and "database" in message and "chmod" in message, message


def test_records_name_the_pushed_configuration_in_force(tmp_path):
    ledger = open_ledger(tmp_path)
    assert sale(ledger, 1000).record.config_version == 0
    ledger.use_config_version(7)
    assert sale(ledger, 2000).record.config_version == 7
    assert payload_record(sale(ledger, 3000).jws).config_version == 7
    with pytest.raises(ValueError):
        ledger.use_config_version(-1)


def test_an_online_sale_keeps_the_id_the_platform_authorized_it_by(tmp_path):
    ledger = open_ledger(tmp_path)
    known = "019a0000-0000-7000-8000-00000000abcd"
    recorded = ledger.record_sale(
        amount_won=5000, method="cpm", benefits=Benefits(500, 100, 50), clock=clock(),
        offline=False, token_id="T9", txn_id=known,
    )  # fmt: skip
    assert recorded.record.txn_id == known
    with pytest.raises(ValueError, match="UUID"):
        ledger.record_sale(
            amount_won=5000, method="cpm", benefits=Benefits(500, 100, 50), clock=clock(),
            offline=False, token_id="T10", txn_id="not-a-uuid",
        )  # fmt: skip
    assert ledger.queue()[0] == 1  # the refused call wrote nothing


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_a_lost_journal_is_refused_not_silently_restarted_at_seq_1(tmp_path, how):
    """Hostile test: a deleted or 0-byte terminal.db used to become a new, empty journal."""
    key = DeviceKey.generate()
    ledger = open_ledger(tmp_path, key)
    sale(ledger, 1000)
    ledger.close()
    database = tmp_path / "terminal.db"
    for companion in (database, tmp_path / "terminal.db-wal", tmp_path / "terminal.db-shm"):
        companion.unlink(missing_ok=True)
    if how == "emptied":
        database.write_bytes(b"")
    with pytest.raises(LedgerMissing, match="restore the database"):
        open_ledger(tmp_path, key)
    assert not database.exists() or database.stat().st_size == 0  # nothing created over it


def test_a_journal_moved_aside_with_its_marker_starts_anew(tmp_path):
    ledger = open_ledger(tmp_path)
    sale(ledger, 1000)
    ledger.close()
    aside = tmp_path / "retired"
    aside.mkdir()
    for name in ("terminal.db", "terminal.db-wal", "terminal.db-shm", "terminal.db.started"):
        if (tmp_path / name).exists():
            (tmp_path / name).rename(aside / name)
    fresh = open_ledger(tmp_path)
    assert sale(fresh, 500).record.seq == 1


def test_a_write_by_another_connection_is_seen_before_the_next_sale(tmp_path):
    """Code review #4: a second writer (a maintenance job) made the cached chain head stale and
    the app's next sale failed; the head is now read again when SQLite says the file changed."""
    key = DeviceKey.generate()
    first = open_ledger(tmp_path, key)
    sale(first, 1000)
    second = open_ledger(tmp_path, key)
    assert sale(second, 2000).record.seq == 2
    second.close()
    after = sale(first, 3000).record
    assert after.seq == 3
    lines = list(first.export_lines(T0 + 10_000))
    assert verify_export(lines, certificate_key(key)) == []
