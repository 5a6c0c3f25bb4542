"""Crash and concurrency testing. SIGKILL: a writer process recording sales is killed at random
points, again and again. Threads: one thread records sales while another claims and settles
them (the sync thread's calls) and a third reads the journal through its own read-only
connection (an export beside the terminal). Afterwards nothing reported approved may be missing
or doubled, the counter has no gaps, and the chain verifies. Used by the test suite (few kills,
few interleavings) and `scripts/chaos` (thousands of each)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from terminal.core.benefits import Benefits
from terminal.core.offline import ClockState
from terminal.ledger.reader import journal_rows, open_read_only
from terminal.ledger.store import Ledger
from terminal.ledger.verify import verify_export
from terminal.signing import DeviceKey

DEVICE = "CHAOS-0001"
T0 = 1_795_000_000_000


@dataclass
class ChaosReport:
    kills: int
    approved: int
    records: int
    problems: list[str]
    rounds: int = 0  # claim/settle rounds interleaved with the sales (threads only)


def _writer(path: Path, key: DeviceKey, out_fd: int, first: int) -> None:
    """Child process: records sales forever, writing each txn id once its commit returned."""
    ledger = Ledger(path, key, DEVICE)
    number = first
    while True:
        number += 1
        clock = ClockState(T0 + number, True, T0)
        offline = number % 2 == 0
        recorded = ledger.record_sale(
            amount_won=1000 + number % 9000,
            method="cpm" if offline else "mpm",
            benefits=Benefits(100, 20, 10),
            clock=clock,
            offline=offline,
            token_id=f"TOKEN-{number}" if offline else None,
        )
        os.write(out_fd, f"{recorded.record.txn_id}\n".encode())


def _read_lines(fd: int, wanted: int | None) -> tuple[list[str], bool]:
    """Reads whole lines from `fd`: up to `wanted` of them, or all until EOF when None."""
    lines, buffer = [], b""
    while wanted is None or len(lines) < wanted:
        chunk = os.read(fd, 4096)
        if not chunk:
            return lines, True
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        lines += [line.decode() for line in complete]
    return lines, False


def run_chaos(folder: Path, kills: int, seed: int = 0) -> ChaosReport:
    rng = random.Random(seed)
    path = folder / "chaos.db"
    key = DeviceKey.generate()
    approved: list[str] = []
    for kill in range(kills):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the test runner
            try:
                os.close(read_end)
                _writer(path, key, write_end, first=kill * 1_000_000)
            finally:
                os._exit(1)
        os.close(write_end)
        lines, _ = _read_lines(read_end, rng.randint(1, 4))
        os.kill(pid, signal.SIGKILL)
        more, _ = _read_lines(read_end, None)  # approvals written before it died count too
        os.close(read_end)
        os.waitpid(pid, 0)
        approved += lines + more
    return _check(path, key, approved, kills)


def _check(path: Path, key: DeviceKey, approved: list[str], kills: int) -> ChaosReport:
    problems = []
    db = sqlite3.connect(path)
    if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
        problems.append("integrity_check failed")
    txns = [row[0] for row in db.execute("SELECT txn_id FROM journal ORDER BY seq")]
    seqs = [row[0] for row in db.execute("SELECT seq FROM journal ORDER BY seq")]
    db.close()
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append("sequence numbers have gaps")
    present = set(txns)
    missing = [txn for txn in approved if txn not in present]
    if missing:
        problems.append(f"{len(missing)} approved sales missing, e.g. {missing[0]}")
    if len(present) != len(txns) or len(set(approved)) != len(approved):
        problems.append("a sale appears twice")
    ledger = Ledger(path, key, DEVICE)
    problems += [str(p) for p in verify_export(list(ledger.export_lines(T0)), key.public_key)]
    ledger.close()
    return ChaosReport(kills, len(approved), len(txns), problems)


def run_interleavings(folder: Path, sales: int, seed: int = 0) -> ChaosReport:
    """`sales` record_sale calls from one thread, claim/settle from another until every sale
    is accepted, and read-only journal reads from a third; every error is a problem."""
    path = folder / "threads.db"
    key = DeviceKey.generate()
    ledger = Ledger(path, key, DEVICE)
    approved: list[str] = []
    errors: list[str] = []
    cycles = [0, 0]  # claim/settle rounds, reader passes
    new_sale, done = threading.Event(), threading.Event()

    def app() -> None:
        for number in range(sales):
            offline = number % 2 == 0
            recorded = ledger.record_sale(
                amount_won=1000 + number,
                method="cpm",
                benefits=Benefits(100, 20, 10),
                clock=ClockState(T0 + number, True, T0),
                offline=offline,
                token_id=f"TOKEN-{number}",
            )
            approved.append(recorded.record.txn_id)
            new_sale.set()
        done.set()
        new_sale.set()

    def sync() -> None:
        rng = random.Random(seed)
        while True:
            rows = ledger.claim(rng.randint(1, 8), T0)
            if not rows:
                if done.is_set() and ledger.queue()[0] == 0:
                    return
                new_sale.wait()
                new_sale.clear()
                continue
            txns = [txn for txn, _ in rows]
            accepted = [txn for txn in txns if rng.random() < 0.8]
            ledger.settle(accepted, {}, [txn for txn in txns if txn not in accepted])
            cycles[0] += 1

    def reader() -> None:
        while not done.is_set():
            connection = open_read_only(path)
            sum(1 for _ in journal_rows(connection))
            connection.close()
            cycles[1] += 1

    def guarded(work):
        def run() -> None:
            try:
                work()
            except BaseException as error:  # every escape is a finding, reported below
                errors.append(f"{work.__name__}: {type(error).__name__}: {error}")
                done.set()
                new_sale.set()

        return run

    threads = [threading.Thread(target=guarded(w), name=w.__name__) for w in (app, sync, reader)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: more interleavings per sale
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
        ledger.close()
    report = _check(path, key, approved, 0)
    db = sqlite3.connect(path)
    states = dict(db.execute("SELECT state, COUNT(*) FROM journal GROUP BY state").fetchall())
    db.close()
    if not errors and states != {"accepted": sales}:
        errors.append(f"outbox states {states}, expected all {sales} accepted")
    report.problems[:0] = errors
    report.rounds = cycles[0]
    return report


def main() -> int:
    import argparse
    import tempfile
    import time

    from terminal.cli import whole_number

    parser = argparse.ArgumentParser(prog="scripts/chaos", description=__doc__)
    parser.add_argument(
        "--kills", type=whole_number(0, 1_000_000), default=2000, help="SIGKILLs of the writer"
    )
    parser.add_argument(
        "--interleavings",
        type=whole_number(0, 10_000_000),
        default=10_000,
        help="sales across threads",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    problems = []
    if args.kills:
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            report = run_chaos(Path(folder), args.kills, args.seed)
        print(
            f"{report.kills} SIGKILLs, {report.approved} sales approved, {report.records} "
            f"records, {time.monotonic() - started:.0f} s"
        )
        problems += report.problems
    if args.interleavings:
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as folder:
            report = run_interleavings(Path(folder), args.interleavings, args.seed)
        print(
            f"threads: {report.approved} sales approved, {report.rounds} claim/settle rounds "
            f"between them, {report.records} records, {time.monotonic() - started:.0f} s"
        )
        problems += report.problems
    for problem in problems:
        print("PROBLEM:", problem)
    print("ok" if not problems else "FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
