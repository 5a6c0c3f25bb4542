"""The HTTP layer: which answers mean retry, park or show; bounded bodies; strict JSON."""

from __future__ import annotations

import json

import pytest
import requests

from terminal.sync.errors import (
    DeviceFilesMissing,
    DeviceRefused,
    MalformedResponse,
    Parked,
    PlatformBusy,
    PlatformUnreachable,
    ShowShopkeeper,
)
from terminal.sync.transport import (
    HandlerAdapter,
    TlsFiles,
    interpret,
    json_answer,
    make_session,
    request,
    retry_after,
)
from tests.sync.fakes import problem

JSON = {"Content-Type": "application/json"}


def call(handler, cap=1024 * 1024):
    session = make_session(TlsFiles(ca="/nonexistent.pem"), adapter=HandlerAdapter(handler))
    return request(session, "GET", "https://platform.test/v1/keys", timeout=(1, 1), cap=cap)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (problem(500, "retry", "internal_error"), PlatformBusy),
        (problem(503, "retry", "unavailable", **{"Retry-After": "7"}), PlatformBusy),
        (problem(429, "retry", "too_many_attempts", **{"Retry-After": "3"}), PlatformBusy),
        (problem(400, "park", "invalid_request"), Parked),
        (problem(413, "park", "too_large"), Parked),
        (problem(409, "show", "already_paid"), ShowShopkeeper),
        (problem(401, "show", "certificate_required"), DeviceRefused),
        (problem(403, "show", "certificate_revoked"), DeviceRefused),
        ((404, {"Content-Type": "text/html"}, b"<h1>nope</h1>"), Parked),
        ((502, {"Content-Type": "text/html"}, b"bad gateway"), PlatformBusy),
        ((302, {"Location": "https://elsewhere"}, b""), MalformedResponse),
    ],
)
def test_each_answer_maps_to_retry_park_or_show(answer, error):
    with pytest.raises(error) as caught:
        call(lambda request: answer)
    assert caught.value.action == {PlatformBusy: "retry", MalformedResponse: "retry"}.get(
        error, caught.value.action
    )


def test_a_problem_of_class_retry_on_a_4xx_is_retried():
    with pytest.raises(PlatformBusy):
        call(lambda r: problem(409, "retry", "in_progress"))


def test_retry_after_seconds_and_http_date_against_the_answers_own_date():
    assert retry_after({"Retry-After": "12"}) == 12
    dated = {
        "Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT",
        "Date": "Wed, 21 Oct 2015 07:28:00 GMT",
    }
    assert retry_after(dated) == 30
    assert retry_after({"Retry-After": "999999999"}) == 3600  # capped
    assert retry_after({"Retry-After": "soon"}) is None
    with pytest.raises(PlatformBusy) as caught:
        call(lambda r: problem(503, "retry", "unavailable", **{"Retry-After": "7"}))
    assert caught.value.retry_after == 7


def test_wrong_content_type_and_bad_json_are_malformed():
    with pytest.raises(MalformedResponse):
        call(lambda r: (200, {"Content-Type": "text/plain"}, b'{"keys": []}'))
    with pytest.raises(MalformedResponse):
        call(lambda r: (200, JSON, b'{"keys": [}'))
    with pytest.raises(MalformedResponse):
        call(lambda r: (200, JSON, b"\xff\xfe"))


def test_a_huge_body_is_cut_off_at_the_cap_declared_or_not():
    declared = {**JSON, "Content-Length": str(100 * 1024 * 1024)}
    with pytest.raises(MalformedResponse, match="cap"):
        call(lambda r: (200, declared, b"{}"))

    class Endless:
        """100 MB of JSON-looking bytes, produced lazily; counts what was read."""

        def __init__(self):
            self.read_bytes = 0

        def read(self, size=-1):
            if self.read_bytes >= 100 * 1024 * 1024:
                return b""
            self.read_bytes += size
            return b" " * size

        def close(self):
            pass

    endless = Endless()

    class StreamingAdapter(HandlerAdapter):
        def send(self, request, **kwargs):
            response = super().send(request, **kwargs)
            response.raw = endless
            return response

    session = make_session(
        TlsFiles(ca="/x.pem"), adapter=StreamingAdapter(lambda r: (200, JSON, b""))
    )
    with pytest.raises(MalformedResponse, match="cap"):
        request(session, "GET", "https://platform.test/v1/keys", timeout=(1, 1), cap=1 << 20)
    assert endless.read_bytes <= (1 << 20) + 64 * 1024


def test_connection_errors_are_unreachable_and_plain_http_is_refused():
    def refuse(request):
        raise requests.exceptions.ConnectionError("refused")

    with pytest.raises(PlatformUnreachable):
        call(refuse)
    session = make_session(TlsFiles(ca="/x.pem"), adapter=HandlerAdapter(lambda r: None))
    with pytest.raises(PlatformUnreachable, match="https"):
        request(session, "GET", "http://platform.test/v1/keys", timeout=(1, 1))


def test_a_good_answer_parses():
    answer = call(lambda r: json_answer(200, {"keys": [1, 2]}))
    assert answer.body == {"keys": [1, 2]}
    assert interpret(304, {}, b"").body is None
    assert json.loads(json.dumps(answer.body)) == {"keys": [1, 2]}


def test_a_refused_connection_is_told_apart_from_a_server_that_hung_up(tmp_path):
    import socket

    from tests.sync.badserver import make_ca_and_server_cert

    ca, _, _ = make_ca_and_server_cert(tmp_path)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, not listening: connections are refused
        session = make_session(TlsFiles(ca=ca))
        with pytest.raises(PlatformUnreachable) as caught:
            request(session, "GET", f"https://127.0.0.1:{port}/v1/keys", timeout=(1, 1))
    assert caught.value.no_connection

    def hang_up(request):
        raise requests.exceptions.ConnectionError("connection reset by peer")

    with pytest.raises(PlatformUnreachable) as caught:
        call(hang_up)
    assert not caught.value.no_connection


def test_missing_tls_files_are_shown_not_retried_forever(tmp_path):
    session = make_session(TlsFiles(ca=tmp_path / "missing-ca.pem"))
    with pytest.raises(DeviceFilesMissing) as caught:
        request(session, "GET", "https://127.0.0.1:9/v1/keys", timeout=(1, 1))
    assert caught.value.action == "show"
