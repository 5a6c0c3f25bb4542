"""`scripts/bench ledger`: signing and committing one sale against a bare SQLite commit.

The floor is one fsync per sale. How much one costs depends on the state of the WAL file: while
it grows (a new database) each fsync also commits the file's new size; once SQLite reuses it
(after the first checkpoint, as on a terminal that has run for a day) only the data is flushed.
Both states are measured, each with every contestant in the same state.

Three contestants, timed in a shuffled order each round (a fixed order lets one contestant
always follow the other's fsync, which skewed the ratio by up to 0.3):
- bare: BEGIN, INSERT a 700-byte row, COMMIT;
- bare + ES256: the same after one ES256 signature, the least any ledger that signs each record
  before committing it can do;
- ledger: `Ledger.record_sale` (build, sign, chain, one INSERT into the journal and its indexes).
"""

from __future__ import annotations

import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TARGET = 1.3
BODY = "x" * 700  # about the size of a signed record


def _bare_database(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    return connection


def _bare_insert(connection: sqlite3.Connection) -> None:
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("INSERT INTO t (body) VALUES (?)", (BODY,))
    connection.execute("COMMIT")


class _Contestants:
    """The three databases of one phase, in one folder."""

    def __init__(self, folder: Path):
        from terminal.core.benefits import Benefits
        from terminal.core.offline import ClockState
        from terminal.ledger.store import Ledger
        from terminal.signing import DeviceKey

        self.bare = _bare_database(folder / "bare.db")
        self.signed = _bare_database(folder / "signed.db")
        self.key = DeviceKey.generate()
        self.ledger = Ledger(folder / "ledger.db", DeviceKey.generate(), "BENCH-1")
        self.clock = ClockState(1_795_000_000_000, True, 0)
        self.benefits = Benefits(1200, 240, 120)
        self.sales = 0
        self.sign_samples: list[float] = []  # the signature alone, right after another commit

    def actions(self) -> dict[str, Callable[[], None]]:
        return {
            "bare SQLite insert + commit": lambda: _bare_insert(self.bare),
            "bare + one ES256 signature": self.signed_insert,
            "ledger: sign + journal + outbox + token": self.sale,
        }

    def signed_insert(self) -> None:
        start = time.perf_counter()
        self.key.sign(BODY.encode())
        self.sign_samples.append((time.perf_counter() - start) * 1e6)
        _bare_insert(self.signed)

    def sale(self) -> None:
        self.sales += 1
        self.ledger.record_sale(
            amount_won=12000,
            method="cpm",
            benefits=self.benefits,
            clock=self.clock,
            offline=True,
            token_id=f"T{self.sales}",
        )

    def settle_wal(self, commits: int) -> None:
        """Runs each database past a checkpoint so that its WAL file is reused, not grown."""
        for action in self.actions().values():
            for _ in range(commits):
                action()
        for connection in (self.bare, self.signed, self.ledger.db):
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self.sign_samples.clear()

    def close(self) -> None:
        self.bare.close()
        self.signed.close()
        self.ledger.close()


def _measure(contestants: _Contestants, rounds: int, seed: int) -> dict[str, list[float]]:
    actions = contestants.actions()
    samples: dict[str, list[float]] = {name: [] for name in actions}
    order = list(actions)
    shuffle = random.Random(seed).shuffle
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            start = time.perf_counter()
            actions[name]()
            samples[name].append((time.perf_counter() - start) * 1e6)
    return samples


def _cpu_only(contestants: _Contestants, rounds: int) -> dict[str, float]:
    """The same work without fsync: what each costs the CPU, apart from the disk."""
    for connection in (contestants.bare, contestants.signed, contestants.ledger.db):
        connection.execute("PRAGMA synchronous=OFF")
    samples = _measure(contestants, rounds, seed=0)
    return {name: statistics.median(values) for name, values in samples.items()}


def bench_ledger(repeat: int, *, rounds: int | None = None, settle_commits: int = 1200) -> None:
    """Prints both phases and the verdict. `settle_commits`: a ledger row dirties about four
    pages, so 1,200 commits take it past SQLite's 1,000-page autocheckpoint."""
    rounds = rounds or max(repeat * 8, 400)
    print(f"\n## ledger: {rounds} shuffled rounds a phase, WAL + synchronous=FULL, in {Path.cwd()}")
    ratios: list[tuple[str, float, float]] = []  # phase, ledger, one signature alone
    for phase in ("fresh", "steady"):
        with tempfile.TemporaryDirectory(dir=Path.cwd()) as folder:
            contestants = _Contestants(Path(folder))
            if phase == "steady":
                contestants.settle_wal(settle_commits)
            samples = _measure(contestants, rounds, seed=1)
            cold_sign = statistics.median(contestants.sign_samples)
            cpu = _cpu_only(contestants, rounds)
            contestants.close()
        medians = {name: statistics.median(values) for name, values in samples.items()}
        base = medians["bare SQLite insert + commit"]
        title = {
            "fresh": "fresh database (the WAL file grows with each commit)",
            "steady": "steady state (WAL file reused after a checkpoint)",
        }[phase]
        print(f"\n### {title}")
        print(f"{'operation':44} {'median µs':>10} {'× bare':>8} {'no fsync µs':>12}")
        for name, value in medians.items():
            print(f"{name:44} {value:10.1f} {value / base:8.2f} {cpu[name]:12.1f}")
        print(f"{'  the ES256 signature alone, after a commit':44} {cold_sign:10.1f}")
        ledger = medians["ledger: sign + journal + outbox + token"] / base
        ratios.append((phase, ledger, medians["bare + one ES256 signature"] / base))
    met = all(ledger <= TARGET for _, ledger, _ in ratios)
    verdicts = "; ".join(
        f"{phase} {ledger:.2f}× (one signature alone: {bound:.2f}×)"
        for phase, ledger, bound in ratios
    )
    print(
        f"\ntarget ≤ {TARGET}× bare: {'met' if met else 'NOT met'}: {verdicts}."
        "\nWhere one signature alone exceeds the target, no ledger that signs each record before"
        "\ncommitting it can meet it on this disk; on a Pi's SD card an fsync takes milliseconds."
    )
