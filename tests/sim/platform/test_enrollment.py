"""Enrollment codes: single use, 10-minute expiry, lockout after wrong tries, slow-down per
address; the certificate names the device and chains to the CA; renewal."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from terminal.signing import DeviceKey, load_jwks
from terminal.sim.platform.enrollment import ADDRESS_LIMIT, MAX_WRONG_TRIES

from .conftest import anonymous


def _enroll(server, code: str, key: DeviceKey | None = None, serial: str = "SERIAL-E"):
    key = key or DeviceKey.generate()
    client = anonymous(server)
    answer = client.request(
        "POST", "/v1/enrollments", {"code": code, "csr": key.csr(serial).decode()}
    )
    client.close()
    return answer


def _problem(answer) -> str:
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    return answer.json()["type"].removeprefix("urn:qr-terminal:problem:")


def _wrong(code: str) -> str:
    last = "0" if code[-1] != "0" else "1"
    return code[:-1] + last


def test_a_code_and_a_csr_give_a_certificate_naming_the_device_and_everything_to_start(server):
    key = DeviceKey.generate()
    answer = _enroll(server, server.new_code(), key, serial="PI-1234")
    assert answer.status == 201
    body = answer.json()
    certificate = x509.load_pem_x509_certificate(body["certificate"].encode())
    ca = x509.load_pem_x509_certificate(body["ca_chain"][0].encode())
    certificate.verify_directly_issued_by(ca)
    assert (
        certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        == body["device_id"]
    )
    assert certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "PI-1234"
    assert certificate.public_key().public_numbers() == key.public_key.public_numbers()
    assert len(load_jwks(body["jwks"])) >= 2
    assert body["config"]["version"] >= 1 and body["merchant"] == body["config"]["merchant"]


def test_a_code_is_single_use(server):
    code = server.new_code()
    assert _enroll(server, code).status == 201
    again = _enroll(server, code)
    assert again.status == 403 and _problem(again) == "show:code_used"


def test_the_same_device_resending_after_a_lost_reply_gets_its_enrollment_back(server):
    code, key = server.new_code(), DeviceKey.generate()
    first = _enroll(server, code, key).json()
    second = _enroll(server, code, key)
    assert second.status == 201
    assert second.json()["device_id"] == first["device_id"]
    assert second.json()["certificate"] == first["certificate"]


def test_a_code_expires_after_ten_minutes(server, moving_time):
    code = server.new_code()
    moving_time.offset = 10 * 60 + 1
    try:
        answer = _enroll(server, code)
    finally:
        moving_time.offset = 0
    assert answer.status == 403 and _problem(answer) == "show:code_expired"


def test_wrong_tries_lock_the_code_even_for_the_right_secret(server):
    code = server.new_code()
    for left in range(MAX_WRONG_TRIES - 1, -1, -1):
        answer = _enroll(server, _wrong(code))
        assert answer.status == 403 and _problem(answer) == "show:code_invalid"
        assert f"{left} tries left" in answer.json()["detail"]
    locked = _enroll(server, code)
    assert locked.status == 403 and _problem(locked) == "show:code_locked"


def test_an_address_guessing_codes_is_slowed_down_with_retry_after(tmp_path):
    from terminal.sim.platform import PlatformServer

    with PlatformServer(tmp_path / "platform") as fresh:
        for n in range(ADDRESS_LIMIT):
            answer = _enroll(fresh, f"{n:04d}-0000-0000")
            assert answer.status == 403 and _problem(answer) == "show:code_invalid"
        blocked = _enroll(fresh, fresh.new_code())  # even a good code waits
        assert blocked.status == 429 and _problem(blocked) == "retry:too_many_attempts"
        assert int(blocked.headers["Retry-After"]) > 0
        assert not fresh.errors


@pytest.mark.parametrize(
    "csr",
    ["not a csr", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"],
)
def test_a_bad_csr_is_refused_and_does_not_use_up_the_code(server, csr):
    code = server.new_code()
    client = anonymous(server)
    answer = client.request("POST", "/v1/enrollments", {"code": code, "csr": csr})
    client.close()
    assert answer.status == 422 and _problem(answer) == "park:bad_csr"
    assert _enroll(server, code).status == 201


def test_a_malformed_code_is_a_400_naming_the_field(server):
    client = anonymous(server)
    answer = client.request("POST", "/v1/enrollments", {"code": "abc", "csr": "x"})
    client.close()
    assert answer.status == 400 and _problem(answer) == "park:invalid_request"
    assert "code" in answer.json()["detail"]


def test_renewal_gives_a_new_certificate_for_the_same_device_and_both_work(server, device):
    new_key = DeviceKey.generate()
    answer = device.post(
        "/v1/certificates", {"csr": new_key.csr("SERIAL-T", device.device_id).decode()}
    )
    assert answer.status == 201
    renewed = answer.json()
    assert renewed["device_id"] == device.device_id
    certificate = x509.load_pem_x509_certificate(renewed["certificate"].encode())
    assert certificate.public_key().public_numbers() == new_key.public_key.public_numbers()
    from terminal.sim.platform.client import DeviceClient, tls_context

    client = DeviceClient(
        server.url, tls_context(server.ca_path, renewed["certificate"].encode(), new_key)
    )
    assert client.request("GET", "/v1/keys").status == 200
    client.close()
    assert device.get("/v1/keys").status == 200


def test_renewal_for_another_device_name_is_refused(server, device):
    key = DeviceKey.generate()
    answer = device.post("/v1/certificates", {"csr": key.csr("X", "SIM-9999999").decode()})
    assert answer.status == 422 and _problem(answer) == "park:bad_csr"
