"""Properties: the export parser refuses anything that is not an export with ExportFormatError
and nothing else; the outbox, driven by any sequence of sales, claims, answers and crashes,
matches a plain model and never loses or duplicates a record."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from terminal.ledger.store import Ledger
from terminal.ledger.verify import ExportFormatError, inspect_export, parse_line
from terminal.signing import DeviceKey
from tests.ledger.helpers import DEVICE, T0, sale

KEY = DeviceKey.generate()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps)))
def test_any_line_is_an_entry_or_an_export_format_error(line):
    try:
        entry = parse_line(1, line)
    except ExportFormatError as error:
        assert "line 1" in str(error)
        return
    assert isinstance(entry, str) or (type(entry[0]) is int and isinstance(entry[1], str))


@given(st.lists(st.one_of(st.text(max_size=80), json_values.map(json.dumps)), max_size=6))
def test_any_text_gives_a_report_or_an_export_format_error(lines):
    try:
        report = inspect_export(lines, KEY.public_key)
    except ExportFormatError:
        return
    assert report.problems  # nothing here was signed by KEY: it can never verify


class Outbox(RuleBasedStateMachine):
    """The ledger's outbox against a dict of txn id → state."""

    def __init__(self):
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="outbox-"))
        self.ledger = Ledger(self.folder / "terminal.db", KEY, DEVICE)
        self.model: dict[str, str] = {}
        self.offline: dict[str, int] = {}
        self.sending: list[str] = []
        self.n = 0

    @rule(offline=st.booleans(), amount=st.integers(1, 100_000))
    def record(self, offline, amount):
        self.n += 1
        recorded = sale(self.ledger, amount, self.n, offline=offline, token=f"T{self.n}")
        self.model[recorded.record.txn_id] = "pending"
        if offline:
            self.offline[recorded.record.txn_id] = amount

    @rule(limit=st.integers(1, 5))
    def claim(self, limit):
        rows = self.ledger.claim(limit, T0)
        expected = [t for t, s in self.model.items() if s == "pending"][:limit]
        assert [txn for txn, _ in rows] == expected
        for txn in expected:
            self.model[txn] = "sending"

    @rule(data=st.data())
    def settle(self, data):
        sending = [t for t, s in self.model.items() if s == "sending"]
        answers = data.draw(
            st.lists(
                st.sampled_from(["accepted", "rejected", "retry"]),
                min_size=len(sending),
                max_size=len(sending),
            )
        )
        accepted = [t for t, a in zip(sending, answers, strict=True) if a == "accepted"]
        rejected = {t: "409" for t, a in zip(sending, answers, strict=True) if a == "rejected"}
        retry = [t for t, a in zip(sending, answers, strict=True) if a == "retry"]
        self.ledger.settle(accepted, rejected, retry)
        for txn in accepted:
            self.model[txn] = "accepted"
        for txn in rejected:
            self.model[txn] = "rejected"
        for txn in retry:
            self.model[txn] = "pending"

    @rule()
    def crash_and_restart(self):
        self.ledger.close()
        self.ledger = Ledger(self.folder / "terminal.db", KEY, DEVICE)
        for txn, state in self.model.items():
            if state == "sending":
                self.model[txn] = "pending"

    @invariant()
    def matches_the_model(self):
        rows = dict(self.ledger.db.execute("SELECT txn_id, state FROM journal").fetchall())
        assert rows == self.model
        open_offline = [t for t in self.offline if self.model[t] != "accepted"]
        unsynced = self.ledger.unsynced()
        assert unsynced.count == len(open_offline)
        assert unsynced.total_won == sum(self.offline[t] for t in open_offline)
        depth = sum(1 for s in self.model.values() if s in ("pending", "sending"))
        assert self.ledger.queue()[0] == depth

    def teardown(self):
        self.ledger.close()
        for path in self.folder.iterdir():
            path.unlink()
        self.folder.rmdir()


Outbox.TestCase.settings = settings(max_examples=25, stateful_step_count=15)
test_outbox_matches_a_model = Outbox.TestCase
