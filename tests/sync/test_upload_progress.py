"""An upload answer that settles nothing stops the drain (review finding 7): the rows go back to
pending and the worker backs off as after any failed request, instead of sending the same rows
again at once, as fast as the platform answers."""

from __future__ import annotations

import json
import random

import pytest

from terminal.sync.backoff import ManualClock
from terminal.sync.errors import MalformedResponse
from terminal.sync.transport import json_answer
from terminal.sync.upload import Uploader
from terminal.sync.worker import SyncSettings, SyncWorker
from tests.ledger.helpers import T0, open_ledger, sale
from tests.sync.fakes import FakePlatform, fake_client


@pytest.fixture
def ledger(tmp_path):
    opened = open_ledger(tmp_path)
    yield opened
    opened.close()


def _pending(ledger) -> int:
    return ledger.db.execute("SELECT count(*) FROM journal WHERE state = 'pending'").fetchone()[0]


BOUND = 50  # then a malformed answer ends any loop: a regression fails, it does not hang


def _answering(first_only: bool):
    """A platform bug: it names no record (or only the first) of each batch it is sent."""
    calls = []

    def answer(request):
        calls.append(1)
        if len(calls) > BOUND:
            return json_answer(200, {"not_results": []})
        records = json.loads(request.body)["records"]
        named = records[:1] if first_only else []
        return json_answer(200, {"results": [{"id": r["id"], "status": "accepted"} for r in named]})

    return answer


def test_an_answer_naming_no_record_stops_the_drain_after_one_request(ledger):
    for n in range(3):
        sale(ledger, 1000 + n, n)
    platform = FakePlatform(override=_answering(first_only=False))
    client, adapter = fake_client(platform)
    sender = Uploader(ledger, client, lambda: T0)
    with pytest.raises(MalformedResponse, match="named none of the 3 records"):
        sender.drain()
    assert adapter.sent == 1  # not thousands a second
    assert _pending(ledger) == 3


def test_an_answer_that_settles_some_records_keeps_draining_until_it_settles_none(ledger):
    ids = [sale(ledger, 1000 + n, n).record.txn_id for n in range(4)]
    platform = FakePlatform(override=_answering(first_only=True))
    client, adapter = fake_client(platform)
    sender = Uploader(ledger, client, lambda: T0, batch_size=10)
    assert sender.drain().accepted == 4  # each answer settled one: progress every time
    assert adapter.sent == 4
    states = dict(ledger.db.execute("SELECT txn_id, state FROM journal").fetchall())
    assert {states[i] for i in ids} == {"accepted"}


def test_the_worker_backs_off_after_a_batch_that_settled_nothing(ledger):
    sale(ledger, 1000, 1)
    platform = FakePlatform(override=_answering(first_only=False))
    client, adapter = fake_client(platform)
    settings = SyncSettings(
        interval_seconds=15,
        backoff_initial_seconds=1,
        backoff_max_seconds=60,
        config_seconds=1e9,
        time_seconds=1e9,
    )
    worker = SyncWorker(
        ledger,
        client,
        device_id="D-TEST-0001",
        settings=settings,
        clock=ManualClock(),
        rng=random.Random(7),
        probe=lambda: False,
    )
    delays = [worker.cycle()[0] for _ in range(6)]
    assert adapter.sent == 6  # one request per cycle, each followed by a wait
    assert all(0 <= d <= 60 for d in delays) and max(delays) > 1  # growing, jittered backoff
    assert _pending(ledger) == 1
