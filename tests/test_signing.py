"""Device keys: stored 0600, refused when readable by others, CSR, JWS and JWKS."""

from __future__ import annotations

import os

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from terminal.signing import (
    DeviceKey,
    JwsError,
    KeyFileError,
    jwks_document,
    jws_verify,
    load_jwks,
)
from tests.keys import other_key


def test_key_is_saved_with_mode_0600_and_loads_back(tmp_path):
    key = DeviceKey.generate()
    path = tmp_path / "state" / "device-key.pem"
    key.save(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    loaded = DeviceKey.load(path)
    assert loaded.kid == key.kid
    assert loaded.verify(b"hello", key.sign(b"hello"))
    assert not list(path.parent.glob("*.tmp"))


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_readable_by_others_is_refused(tmp_path, mode):
    path = tmp_path / "device-key.pem"
    DeviceKey.generate().save(path)
    os.chmod(path, mode)
    with pytest.raises(KeyFileError, match="chmod 600"):
        DeviceKey.load(path)


def test_missing_and_garbage_key_files_are_refused(tmp_path):
    with pytest.raises(KeyFileError, match="provision"):
        DeviceKey.load(tmp_path / "absent.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    os.chmod(garbage, 0o600)
    with pytest.raises(KeyFileError, match="not an unencrypted PEM"):
        DeviceKey.load(garbage)


def test_csr_carries_the_serial_and_is_self_signed():
    key = DeviceKey.generate()
    csr = x509.load_pem_x509_csr(key.csr("10000000a3b4c5d6", "D20261122-0042"))
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "10000000a3b4c5d6"
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "D20261122-0042"


def test_jws_round_trip_and_tampering():
    key = DeviceKey.generate()
    token = key.jws(b'{"amount":12000}')
    header, payload = jws_verify(token, {key.kid: key.public_key})
    assert header == {"alg": "ES256", "kid": key.kid} and payload == b'{"amount":12000}'
    head, body, signature = token.split(".")
    forged_body = DeviceKey.generate().jws(b'{"amount":99000}').split(".")[1]
    for bad in (f"{head}.{forged_body}.{signature}", f"{head}.{body}", "a.b.c"):
        with pytest.raises(JwsError):
            jws_verify(bad, {key.kid: key.public_key})
    with pytest.raises(JwsError, match="unknown key"):
        jws_verify(token, {other_key().kid: other_key().public_key})


def test_jws_with_another_algorithm_is_refused():
    key = DeviceKey.generate()
    token = key.jws(b"x", {"alg": "none"})
    with pytest.raises(JwsError, match="ES256"):
        jws_verify(token, {key.kid: key.public_key})


def test_jwks_round_trip_and_bad_documents():
    key = DeviceKey.generate()
    keys = load_jwks(jwks_document({"platform-2026": key.public_key}))
    assert keys["platform-2026"].public_numbers() == key.public_key.public_numbers()
    for bad in (
        {},
        {"keys": []},
        {"keys": [{"kty": "RSA", "kid": "a"}]},
        {"keys": [{"kty": "EC"}]},
    ):
        with pytest.raises(JwsError):
            load_jwks(bad)
