"""Every write is one transaction that commits or rolls back: a failure injected into any write
method leaves the next sale durable (seen from a second connection, and after SIGKILL of the
process that recorded it). Threads follow the ledger's rule, and a call that breaks it fails."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from terminal.ledger.chaos import run_interleavings
from terminal.ledger.errors import LedgerError, LedgerMisuse
from terminal.ledger.store import Ledger
from terminal.ledger.verify import verify_export
from terminal.signing import DeviceKey
from tests.ledger.helpers import DEVICE, T0, certificate_key, clock, open_ledger, sale

# Each record a second after the one before: verification checks time order.
TICK = itertools.count(10)

METHODS = ("claim", "settle", "reclaim", "sale", "refund", "void", "close")


def prepare(ledger: Ledger) -> dict:
    """Three sales; for the outbox methods, all three claimed ('sending')."""
    sales = [sale(ledger, 1000 * (n + 1), n, offline=n == 1, token=f"T{n}") for n in range(3)]
    return {"txns": [s.record.txn_id for s in sales]}


def run_method(ledger: Ledger, method: str, state: dict) -> None:
    txns = state["txns"]
    if method == "claim":
        ledger.claim(10, T0)
    elif method == "settle":
        ledger.settle(accepted=[txns[0]], rejected={txns[1]: "409"}, retry=[txns[2]])
    elif method == "reclaim":
        ledger.reclaim_stuck()
    elif method == "sale":
        sale(ledger, 777, next(TICK), offline=True, token="T-FAIL")
    elif method in ("refund", "void"):
        ledger.record_refund(
            original_txn=txns[0],
            amount_won=100,
            clock=clock(next(TICK) * 1000),
            void=method == "void",
        )
    else:
        ledger.record_close(clock=clock(next(TICK) * 1000))


def setup_for(ledger: Ledger, method: str) -> dict:
    state = prepare(ledger)
    if method in ("settle", "reclaim"):
        assert len(ledger.claim(10, T0)) == 3
    return state


# A trigger that aborts the statement part-way through the method's transaction: for settle and
# reclaim after some of its rows were already updated, so a partial commit would show.
TRIGGERS = {
    "claim": "BEFORE UPDATE OF state ON journal WHEN NEW.state = 'sending'",
    "settle": "BEFORE UPDATE OF state ON journal WHEN NEW.state = 'rejected'",
    "reclaim": "BEFORE UPDATE OF state ON journal WHEN OLD.seq = 2",
    "sale": "AFTER INSERT ON journal WHEN NEW.kind = 'sale'",
    "refund": "AFTER INSERT ON journal WHEN NEW.kind = 'refund'",
    "void": "AFTER INSERT ON journal WHEN NEW.kind = 'void'",
    "close": "AFTER INSERT ON journal WHEN NEW.kind = 'close'",
}


def inject_trigger(ledger: Ledger, method: str) -> Callable[[], None]:
    ledger.db.execute(
        f"CREATE TEMP TRIGGER injected {TRIGGERS[method]} "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    )
    return lambda: ledger.db.execute("DROP TRIGGER temp.injected")


class FailingKey:
    """The device key, failing to sign: a Python exception inside the record's transaction."""

    def __init__(self, key: DeviceKey):
        self.key = key

    def __getattr__(self, name):
        return getattr(self.key, name)

    def jws(self, payload: bytes, extra_headers=None) -> str:
        raise OSError("injected: the secure element stopped answering")


class FailingAnswers(dict):
    """Platform answers that fail while being read, after the accepted ones were applied."""

    def items(self):
        raise RuntimeError("injected: answers unreadable")


def inject_python(ledger: Ledger, method: str, state: dict) -> Callable[[], None]:
    if method == "settle":
        state["txns_rejected"] = FailingAnswers({state["txns"][1]: "409"})
        return lambda: state.pop("txns_rejected")
    original = ledger.key
    ledger.key = FailingKey(original)

    def undo() -> None:
        ledger.key = original

    return undo


def run_with_python_fault(ledger: Ledger, method: str, state: dict) -> None:
    if method == "settle":
        txns = state["txns"]
        ledger.settle(accepted=[txns[0]], rejected=state["txns_rejected"], retry=[txns[2]])
    else:
        run_method(ledger, method, state)


# Repeating these is harmless, so after an error their caller repeats them (see store.py).
REPEATABLE = ("settle", "reclaim")
PYTHON_FAULT_METHODS = ("settle", "sale", "refund", "void", "close")


def outbox_snapshot(ledger: Ledger) -> list[tuple]:
    return ledger.db.execute(
        "SELECT seq, state, attempts, reason FROM journal ORDER BY seq"
    ).fetchall()


def assert_next_sale_durable(path: Path, key: DeviceKey, ledger: Ledger, n: int) -> str:
    recorded = sale(ledger, 4321, next(TICK), offline=True, token=f"AFTER-{n}")
    other = sqlite3.connect(path)  # a second connection sees only what was committed
    try:
        row = other.execute(
            "SELECT seq FROM journal WHERE txn_id = ?", (recorded.record.txn_id,)
        ).fetchone()
    finally:
        other.close()
    assert row == (recorded.record.seq,), "the sale after the failure was not committed"
    return recorded.record.txn_id


@pytest.mark.parametrize("method", METHODS)
def test_injected_trigger_failure_rolls_back_and_the_next_sale_is_durable(tmp_path, method):
    ledger = open_ledger(tmp_path)
    state = setup_for(ledger, method)
    before = outbox_snapshot(ledger)
    undo = inject_trigger(ledger, method)
    with pytest.raises(LedgerError):
        run_method(ledger, method, state)
    undo()
    assert not ledger.db.in_transaction
    assert outbox_snapshot(ledger) == before  # all of the method or none of it
    assert_next_sale_durable(tmp_path / "terminal.db", ledger.key, ledger, 0)
    run_method(ledger, method, state)  # and the method itself works again
    assert verify_export(ledger.export_lines(T0), certificate_key(ledger.key)) == []


@pytest.mark.parametrize("method", PYTHON_FAULT_METHODS)
def test_injected_python_failure_rolls_back_and_the_next_sale_is_durable(tmp_path, method):
    ledger = open_ledger(tmp_path)
    state = setup_for(ledger, method)
    before = outbox_snapshot(ledger)
    undo = inject_python(ledger, method, state)
    with pytest.raises((OSError, RuntimeError)):
        run_with_python_fault(ledger, method, state)
    undo()
    assert not ledger.db.in_transaction
    assert outbox_snapshot(ledger) == before
    assert_next_sale_durable(tmp_path / "terminal.db", ledger.key, ledger, 0)


def interrupted_at(ledger: Ledger, method: str, state: dict, step: int | None) -> int:
    """Runs the method with SQLite interrupted once at VM step `step` (None: never); returns
    how many steps it took. Raises what the method raised."""
    calls = itertools.count(1)
    count = [0]

    def progress() -> bool:
        count[0] = next(calls)
        return count[0] == step

    ledger.db.set_progress_handler(progress, 1)
    try:
        run_method(ledger, method, state)
    finally:
        ledger.db.set_progress_handler(None, 1)
    return count[0]


@pytest.mark.parametrize("method", METHODS)
def test_interrupt_anywhere_in_each_write_leaves_the_next_sale_durable(tmp_path, method):
    """SQLite interrupted at one VM step of the method: every step of its last 20 (the COMMIT)
    and 20 spread over the rest, each from the same starting database."""
    baseline = tmp_path / "baseline.db"
    ledger = Ledger(baseline, DeviceKey.generate(), DEVICE)
    key, state = ledger.key, setup_for(ledger, method)
    ledger.close()  # checkpointed: the file alone is the database

    def fresh(name: str) -> Ledger:
        copy = tmp_path / name
        copy.write_bytes(baseline.read_bytes())
        return Ledger(copy, key, DEVICE)

    probe = fresh("probe.db")
    total = interrupted_at(probe, method, state, None)
    probe.close()
    steps = sorted({*range(1, total, max(1, total // 20)), *range(max(1, total - 20), total + 1)})
    failures = 0
    for step in steps:
        ledger = fresh(f"step-{step}.db")
        before = outbox_snapshot(ledger)
        try:
            interrupted_at(ledger, method, state, step)
        except LedgerError:
            failures += 1
            assert not ledger.db.in_transaction
            after = outbox_snapshot(ledger)
            if after != before:
                # A COMMIT reported interrupted after it was durable: only for the methods
                # whose caller repeats them, and then it was all of the method.
                assert method in REPEATABLE, f"{method} failed yet changed rows at step {step}"
                run_method(ledger, method, state)
                assert outbox_snapshot(ledger) == after
        assert_next_sale_durable(ledger.path, key, ledger, step)
        assert verify_export(ledger.export_lines(T0), certificate_key(key)) == []
        ledger.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{ledger.path}{suffix}").unlink(missing_ok=True)
    assert failures >= len(steps) // 2, f"only {failures} of {len(steps)} steps interrupted"


def _child(path: Path, key: DeviceKey, method: str, fault: str, out: int) -> None:
    """In a forked process: the failure, then one sale; reports its txn id and waits to die."""
    try:
        ledger = Ledger(path, key, DEVICE)
        state = setup_for(ledger, method)
        if fault == "trigger":
            undo = inject_trigger(ledger, method)
            fails = lambda: run_method(ledger, method, state)  # noqa: E731
        else:
            undo = inject_python(ledger, method, state)
            fails = lambda: run_with_python_fault(ledger, method, state)  # noqa: E731
        try:
            fails()
            os.write(out, b"the injected failure did not fail\n")
            return
        except (LedgerError, OSError, RuntimeError):
            undo()
        recorded = sale(ledger, 4321, next(TICK), offline=True, token="AFTER")
        os.write(out, f"{recorded.record.txn_id}\n".encode())
    except BaseException as error:  # reported to the test through the pipe
        os.write(out, f"child failed: {error!r}\n".encode())
        return
    signal.pause()  # holds its connection open until SIGKILL


CASES = [(m, "trigger") for m in METHODS] + [(m, "python") for m in PYTHON_FAULT_METHODS]


@pytest.mark.parametrize(("method", "fault"), CASES)
def test_the_sale_after_a_failure_survives_sigkill(tmp_path, method, fault):
    path, key = tmp_path / "terminal.db", DeviceKey.generate()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            _child(path, key, method, fault, write_end)
        finally:
            os._exit(1)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as pipe:
            line = pipe.readline().decode().strip()
        assert line.count("-") == 4, line  # a txn id, not a complaint
        live = sqlite3.connect(path)  # while the child still holds its connection
        assert live.execute("SELECT 1 FROM journal WHERE txn_id = ?", (line,)).fetchone()
        live.close()
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    ledger = Ledger(path, key, DEVICE)
    assert ledger.db.execute("SELECT 1 FROM journal WHERE txn_id = ?", (line,)).fetchone()
    assert ledger.queue()[0] >= 1
    assert verify_export(ledger.export_lines(T0), certificate_key(key)) == []


def test_a_sale_refuses_to_run_inside_a_transaction_it_did_not_open(tmp_path):
    ledger = open_ledger(tmp_path)
    ledger.db.execute("BEGIN")  # someone else's transaction on the ledger's connection
    with pytest.raises(LedgerMisuse, match="did not open"):
        sale(ledger, 1000)
    ledger.db.execute("ROLLBACK")
    assert ledger.db.execute("SELECT COUNT(*) FROM journal").fetchone() == (0,)
    assert sale(ledger, 1000).record.seq == 1


def _call_from_thread(name: str, call: Callable[[], object]) -> BaseException | None:
    caught: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as error:  # handed back to the test
            caught.append(error)

    thread = threading.Thread(target=run, name=name)
    thread.start()
    thread.join()
    return caught[0] if caught else None


def test_the_scan_worker_thread_may_not_call_the_ledger(tmp_path):
    ledger = open_ledger(tmp_path)
    for call in (lambda: sale(ledger, 1000), ledger.queue, lambda: ledger.seen("T")):
        error = _call_from_thread("scan-worker", call)
        assert isinstance(error, LedgerMisuse) and "scan-worker" in str(error)
    assert _call_from_thread("sync", lambda: sale(ledger, 1000)) is None  # sync may
    error = _call_from_thread(
        "scan-worker", lambda: Ledger(tmp_path / "other.db", ledger.key, DEVICE)
    )
    assert isinstance(error, LedgerMisuse)
    assert ledger.db.execute("SELECT COUNT(*) FROM journal").fetchone() == (1,)


def test_a_thread_can_be_forbidden_by_id(tmp_path):
    ledger = open_ledger(tmp_path)
    go = threading.Event()
    caught: list[BaseException] = []

    def camera_callback() -> None:
        go.wait()
        try:
            ledger.queue()
        except LedgerMisuse as error:
            caught.append(error)

    thread = threading.Thread(target=camera_callback, name="camera-callback")
    thread.start()
    ledger.forbid_thread(thread)
    go.set()
    thread.join()
    assert caught and "camera-callback" in str(caught[0])


def test_closed_ledger_refuses_calls_clearly(tmp_path):
    ledger = open_ledger(tmp_path)
    ledger.close()
    ledger.close()  # twice is harmless
    with pytest.raises(LedgerMisuse, match="after close"):
        sale(ledger, 1000)


def test_sales_and_sync_from_two_threads_lose_nothing(tmp_path):
    """The default run; `scripts/chaos --interleavings 10000` runs the long one."""
    report = run_interleavings(tmp_path, sales=400, seed=3)
    assert report.problems == []
    assert report.approved == report.records == 400
    assert report.rounds > 20  # claim/settle really ran between the sales


@pytest.mark.parametrize("method", ["claim", "close"])
def test_a_rollback_that_fails_too_gives_up_the_connection_not_the_sale(tmp_path, method):
    """SQLite keeps refusing (every statement interrupted, the ROLLBACK too): the ledger drops
    the connection, which rolls back, and the next sale runs on a fresh one."""
    ledger = open_ledger(tmp_path)
    state = setup_for(ledger, method)
    before = outbox_snapshot(ledger)
    stuck = ledger.db
    calls = itertools.count(1)
    stuck.set_progress_handler(lambda: next(calls) > 10, 1)  # past step 10, nothing runs
    with pytest.raises(LedgerError):
        run_method(ledger, method, state)
    assert ledger.db is not stuck and not ledger.db.in_transaction
    assert outbox_snapshot(ledger) == before
    assert_next_sale_durable(ledger.path, ledger.key, ledger, 0)
