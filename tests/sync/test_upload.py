"""Draining the outbox through the transport seam: what is settled how, and what never is."""

from __future__ import annotations

import pytest

from terminal.sync.answers import UploadResult
from terminal.sync.errors import MalformedResponse, PlatformUnreachable
from terminal.sync.transport import json_answer
from terminal.sync.upload import Uploader, cut_by_bytes, match_results
from tests.ledger.helpers import T0, open_ledger, sale
from tests.sync.fakes import FakePlatform, fake_client, problem


def states(ledger) -> dict[str, tuple[str, str | None]]:
    rows = ledger.db.execute("SELECT txn_id, state, reason FROM journal").fetchall()
    return {txn: (state, reason) for txn, state, reason in rows}


def uploader(ledger, platform, **options):
    client, adapter = fake_client(platform)
    return Uploader(ledger, client, lambda: T0, **options), adapter


@pytest.fixture
def ledger(tmp_path):
    opened = open_ledger(tmp_path)
    yield opened
    opened.close()


def test_everything_pending_is_sent_in_batches_and_accepted(ledger):
    ids = [sale(ledger, 1000 + n, n).record.txn_id for n in range(23)]
    platform = FakePlatform()
    sender, adapter = uploader(ledger, platform, batch_size=10)
    report = sender.drain()
    assert (report.accepted, report.requests, adapter.sent) == (23, 3, 3)
    assert set(platform.stored) == set(ids)
    assert {s for s, _ in states(ledger).values()} == {"accepted"}
    assert sender.drain().requests == 0


def test_batches_are_cut_by_bytes_too(ledger):
    for n in range(6):
        sale(ledger, 1000, n)
    platform = FakePlatform()
    sender, _ = uploader(ledger, platform, batch_size=50, batch_bytes=1500)
    report = sender.drain()
    assert report.accepted == 6 and report.requests >= 3
    rows = [("a", "x" * 100), ("b", "y" * 100)]
    assert cut_by_bytes(rows, 10) == (rows[:1], rows[1:])  # at least one, always


def test_conflict_and_rejection_park_with_the_platforms_reason(ledger):
    first = sale(ledger, 1000, 1).record.txn_id
    second = sale(ledger, 2000, 2).record.txn_id
    third = sale(ledger, 3000, 3).record.txn_id
    platform = FakePlatform(reject={second: "bad_signature"})
    platform.stored[third] = "other bytes"
    sender, _ = uploader(ledger, platform)
    report = sender.drain()
    assert report.accepted == 1 and report.parked == 2
    seen = states(ledger)
    assert seen[first] == ("accepted", None)
    assert seen[second] == ("rejected", "rejected: bad_signature")
    assert seen[third] == ("rejected", "conflict: conflict")
    assert set(report.reasons) == {second, third}


def test_a_refused_batch_is_split_so_only_the_bad_record_is_parked(ledger):
    ids = [sale(ledger, 1000 + n, n).record.txn_id for n in range(5)]
    bad = ids[2]
    platform = FakePlatform()

    def refuse_batches_with_the_bad_one(request):
        if bad.encode() in request.body:
            return problem(400, "park", "invalid_request")
        platform.override = None
        try:
            return platform(request)
        finally:
            platform.override = refuse_batches_with_the_bad_one

    platform.override = refuse_batches_with_the_bad_one
    sender, _ = uploader(ledger, platform)
    report = sender.drain()
    seen = states(ledger)
    assert seen[bad][0] == "rejected" and "invalid_request" in seen[bad][1]
    assert all(seen[i] == ("accepted", None) for i in ids if i != bad)
    assert report.parked == 1 and report.accepted == 4


@pytest.mark.parametrize(
    "answer",
    [
        lambda ids: json_answer(200, {"results": [{"id": "not-sent", "status": "accepted"}]}),
        lambda ids: json_answer(200, {"results": [{"id": ids[0], "status": "accepted"}] * 2}),
        lambda ids: json_answer(200, {"results": [{"id": ids[0], "status": "great"}]}),
        lambda ids: json_answer(200, {"result": []}),
        lambda ids: json_answer(200, [{"id": ids[0], "status": "accepted"}]),
        lambda ids: (200, {"Content-Type": "text/html"}, b'{"results": []}'),
        lambda ids: (200, {"Content-Type": "application/json"}, b'{"results": [{"id"'),
    ],
)
def test_a_bad_answer_changes_nothing(ledger, answer):
    ids = [sale(ledger, 1000 + n, n).record.txn_id for n in range(3)]
    platform = FakePlatform(override=lambda request: answer(ids))
    sender, _ = uploader(ledger, platform)
    with pytest.raises(MalformedResponse):
        sender.drain()
    assert {s for s, _ in states(ledger).values()} == {"pending"}


def test_ids_the_answer_leaves_out_are_sent_again(ledger):
    ids = [sale(ledger, 1000 + n, n).record.txn_id for n in range(3)]
    results = [UploadResult(ids[0], "accepted"), UploadResult(ids[2], "duplicate")]
    batch = [(i, "jws") for i in ids]
    assert match_results(batch, results) == ([ids[0], ids[2]], {}, [ids[1]])


def test_a_lost_connection_puts_the_batch_back(ledger):
    for n in range(4):
        sale(ledger, 1000, n)
    platform = FakePlatform(online=False)
    sender, _ = uploader(ledger, platform)
    with pytest.raises(PlatformUnreachable):
        sender.drain()
    assert {s for s, _ in states(ledger).values()} == {"pending"}
    platform.online = True
    assert sender.drain().accepted == 4
