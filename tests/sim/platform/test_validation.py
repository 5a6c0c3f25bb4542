"""The spec check itself: a response outside the spec is caught and recorded, and the fast
(jsonschema-rs) path gives the same verdict as openapi-core's own validator."""

from __future__ import annotations

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from hypothesis import given
from hypothesis import strategies as st
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource

from terminal.sim.platform import fastschema
from terminal.sim.platform.validation import SpecCheck

CHECK = SpecCheck.load()
DOCUMENT = yaml.safe_load(CHECK.spec_bytes)
FAST = fastschema.FastSchemaValidators(DOCUMENT)
needs_fast = pytest.mark.skipif(FAST._compiled is None, reason="needs jsonschema-rs ≥ 0.60")
REGISTRY = Registry().with_resource("urn:spec", Resource.opaque(DOCUMENT))


def _slow(pointer: str) -> OAS31Validator:
    return OAS31Validator({"$ref": f"urn:spec{pointer}"}, registry=REGISTRY)


def test_a_response_outside_the_spec_becomes_a_500_and_is_recorded():
    check = SpecCheck.load()
    request = make_mocked_request("GET", "/v1/keys")
    good = web.json_response({"keys": [_jwk("a"), _jwk("b")]})
    assert check.check_response(request, good) is good
    bad = check.check_response(request, web.json_response({"keys": [_jwk("a")]}))  # one key
    assert bad.status == 500 and len(check.violations) == 1
    assert "GET /v1/keys → 200" in check.violations[0]
    undeclared = check.check_response(request, web.json_response({}, status=418))
    assert undeclared.status == 500 and len(check.violations) == 2


def _jwk(kid: str) -> dict:
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": "A" * 43,
        "y": "B" * 43,
        "kid": kid * 12,
        "alg": "ES256",
        "use": "sig",
    }


UUID = st.from_regex(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
ALMOST = st.one_of(UUID, st.text(max_size=40), st.integers(), st.none())
RECORD = st.fixed_dictionaries(
    {"id": ALMOST, "jws": st.one_of(st.text(max_size=20), st.integers())},
    optional={"extra": st.booleans()},
)
UPLOADS = st.one_of(
    st.fixed_dictionaries({"records": st.lists(RECORD, max_size=4)}),
    st.dictionaries(st.text(max_size=8), ALMOST, max_size=3),
)
CHARGES = st.fixed_dictionaries(
    {
        "charge_id": st.one_of(st.from_regex(r"\A[0-9A-HJKMNP-TV-Z]{20}\Z"), st.text(max_size=22)),
        "amount": st.one_of(st.integers(min_value=-5, max_value=10**13), st.booleans()),
        "currency": st.sampled_from(["410", "840", 410]),
        "expires_at_ms": st.integers(min_value=-1, max_value=2**49),
        "payload": st.text(max_size=3),
    }
)


@needs_fast
@given(UPLOADS)
def test_fast_and_slow_agree_on_uploads(body):
    pointer = "#/components/schemas/UploadRequest"
    assert FAST._compiled.get(pointer).is_valid(body) == _slow(pointer).is_valid(body)


@needs_fast
@given(CHARGES)
def test_fast_and_slow_agree_on_charges(body):
    pointer = "#/components/schemas/ChargeRequest"
    assert FAST._compiled.get(pointer).is_valid(body) == _slow(pointer).is_valid(body)
