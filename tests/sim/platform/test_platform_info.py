"""Platform keys (≥ 2, rotation), config push (ETag / If-None-Match → 304), signed time with
the caller's nonce, and the spec served byte for byte."""

from __future__ import annotations

import json

from terminal.core.base64url import b64url_decode
from terminal.signing import jws_verify, load_jwks
from terminal.sim.platform.validation import SPEC_PATH


def test_jwks_has_two_keys_and_rotation_puts_a_new_one_first(server, device):
    before = device.get("/v1/keys").json()["keys"]
    assert len(before) >= 2
    assert {k["alg"] for k in before} == {"ES256"}
    new_kid = server.call(lambda p: p.keys.rotate(p.clock.now_ms()))
    after = device.get("/v1/keys").json()["keys"]
    assert after[0]["kid"] == new_kid and after[1]["kid"] == before[0]["kid"]
    assert len(after) == len(before)


def test_config_has_an_etag_and_answers_304_while_it_is_current(server, device):
    first = device.get("/v1/config")
    assert first.status == 200
    tag = first.headers["ETag"]
    assert tag == f'"v{first.json()["version"]}"'
    same = device.get("/v1/config", headers={"If-None-Match": tag})
    assert same.status == 304 and same.body == b"" and same.headers["ETag"] == tag
    server.call(lambda p: p.push_config({"offline": {"max_count": 10}}))
    pushed = device.get("/v1/config", headers={"If-None-Match": tag})
    assert pushed.status == 200 and pushed.headers["ETag"] != tag
    assert pushed.json()["offline"]["max_count"] == 10
    assert pushed.json()["version"] == first.json()["version"] + 1


def test_signed_time_verifies_with_the_platform_keys_and_names_device_and_nonce(server, device):
    answer = device.get("/v1/time?nonce=n0nce-123456")
    assert answer.status == 200
    body = answer.json()
    keys = load_jwks(device.get("/v1/keys").json())
    header, payload = jws_verify(body["jws"], keys)
    claims = json.loads(payload)
    assert claims == {
        "device_id": device.device_id,
        "nonce": "n0nce-123456",
        "time_ms": body["time_ms"],
    }
    assert header["alg"] == "ES256"


def test_signed_time_follows_the_platforms_clock_skew(server, device):
    plain = device.get("/v1/time?nonce=aaaaaaaa").json()["time_ms"]
    server.faults.set(clock_skew_ms=3_600_000)
    skewed = device.get("/v1/time?nonce=bbbbbbbb").json()
    claims = json.loads(b64url_decode(skewed["jws"].split(".")[1]))
    assert claims["time_ms"] == skewed["time_ms"] >= plain + 3_600_000


def test_time_without_a_nonce_or_with_a_short_one_is_a_400(server, device):
    assert device.get("/v1/time").status == 400
    assert device.get("/v1/time?nonce=short").status == 400


def test_the_spec_is_served_byte_for_byte(server, device):
    answer = device.get("/v1/openapi.yaml")
    assert answer.status == 200 and answer.body == SPEC_PATH.read_bytes()
