"""Property tests: whatever a server answers, the parsers either return well-typed values or
raise MalformedResponse; settling never invents, loses or doubles an id."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.sync.answers import UploadResult, authorization, charge, upload_results
from terminal.sync.errors import MalformedResponse, SyncError
from terminal.sync.transport import interpret
from terminal.sync.upload import match_results

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
IDS = st.sampled_from(["a", "b", "c", "d", "e"])
STATUSES = st.sampled_from(["accepted", "duplicate", "conflict", "rejected"])


@given(JSON)
def test_any_json_is_parsed_or_refused_as_malformed(value):
    for parse in (
        upload_results,
        lambda body: charge(body, "C1"),
        lambda body: authorization(body, "T1", 1000),
    ):
        with contextlib.suppress(MalformedResponse):
            parse(value)  # anything else escaping is a bug


@given(
    st.dictionaries(
        st.sampled_from(["id", "status", "reason", "chain", "detail", "x"]),
        st.one_of(IDS, STATUSES, st.integers(), st.none()),
    )
)
def test_upload_results_hold_only_strings_and_known_statuses(item):
    try:
        (result,) = upload_results({"results": [item]})
    except MalformedResponse:
        return
    assert isinstance(result.id, str) and result.status in (
        "accepted",
        "duplicate",
        "conflict",
        "rejected",
    )


@given(st.integers(100, 599), st.sampled_from(["application/json", "text/html", ""]), st.binary())
def test_any_status_and_body_is_an_answer_or_a_sync_error(status, content_type, raw):
    try:
        answer = interpret(status, {"Content-Type": content_type}, raw)
    except SyncError as error:
        assert error.action in ("retry", "park", "show")
        return
    assert 200 <= status < 300 or status in (204, 304)
    assert answer.status == status


@given(
    st.lists(IDS, unique=True, min_size=1),
    st.lists(st.tuples(st.sampled_from(["a", "b", "c", "d", "e", "zz"]), STATUSES)),
)
def test_settling_partitions_exactly_the_ids_sent(sent, answers):
    batch = [(txn_id, "jws") for txn_id in sent]
    results = [UploadResult(txn_id, status, reason="r") for txn_id, status in answers]
    try:
        accepted, rejected, retry = match_results(batch, results)
    except MalformedResponse:
        ids = [txn_id for txn_id, _ in answers]
        assert len(set(ids)) < len(ids) or not set(ids) <= set(sent)
        return
    together = accepted + list(rejected) + retry
    assert sorted(together) == sorted(sent)  # each sent id exactly once, nothing invented
    answered = dict(answers)
    assert all(answered[i] in ("accepted", "duplicate") for i in accepted)
    assert all(answered[i] in ("conflict", "rejected") for i in rejected)
    assert all(i not in answered for i in retry)


def test_deep_json_is_malformed_not_a_crash():
    deep = ("[" * 100_000 + "]" * 100_000).encode()
    with pytest.raises(MalformedResponse, match="deeply"):
        interpret(200, {"Content-Type": "application/json"}, deep)
