"""Property-based API run from docs/openapi.yaml (schemathesis): requests generated from the
spec, sent over mutual TLS to the real simulator, find no server error and no response outside
the spec (status code, content type, headers, body schema)."""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from terminal.sim.platform.client import _key_pem
from terminal.sim.platform.validation import SPEC_PATH

from .conftest import make_device

schema = schemathesis.openapi.from_path(SPEC_PATH)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def session(server, tmp_path_factory):
    """A requests session holding an enrolled device's certificate and pinning the CA."""
    made = make_device(server, "SERIAL-FUZZ")
    folder = tmp_path_factory.mktemp("fuzz-device")
    (folder / "cert.pem").write_bytes(made.enrolled.certificate_pem)
    (folder / "key.pem").write_bytes(_key_pem(made.key))
    with requests.Session() as opened:
        opened.cert = (str(folder / "cert.pem"), str(folder / "key.pem"))
        opened.verify = str(server.ca_path)
        yield opened


@schema.parametrize()
@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_generated_requests_get_answers_inside_the_spec(case, server, session):
    # verify/cert given again: schemathesis passes its own TLS defaults over the session's
    response = case.call(
        base_url=server.url, session=session, verify=session.verify, cert=session.cert, timeout=30
    )
    case.validate_response(response, checks=CHECKS)
    assert not server.errors, server.errors
