"""Device keys: stored 0600, refused when readable by others, CSR, JWS and JWKS."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.base64url import b64url, b64url_decode
from terminal.core.signature import HALF_ORDER, high_s_twin, is_canonical, split
from terminal.signing import (
    DeviceKey,
    JwsError,
    KeyExistsError,
    KeyFileError,
    PlatformKeys,
    jwks_document,
    jws_verify,
    load_jwks,
    public_key_from_jwk,
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


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o610, 0o601])
def test_key_readable_by_others_is_refused(tmp_path, mode):
    path = tmp_path / "device-key.pem"
    DeviceKey.generate().save(path)
    os.chmod(path, mode)
    with pytest.raises(KeyFileError, match=f"mode 0{mode:o}.*chmod 600 {path}"):
        DeviceKey.load(path)


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: None, "character device"),  # /dev/null itself
        (lambda p: p.mkdir(), "a directory"),
        (lambda p: os.mkfifo(p, 0o600), "a named pipe"),  # must not hang waiting for a writer
    ],
)
def test_a_key_path_that_is_not_a_file_says_what_it_is_never_chmod(tmp_path, make, kind):
    path = Path("/dev/null") if kind == "character device" else tmp_path / "device-key.pem"
    make(path)
    with pytest.raises(KeyFileError) as caught:
        DeviceKey.load(path)
    message = str(caught.value)
    assert kind in message and "chmod" not in message and "key file" in message


def test_a_symbolic_link_to_a_key_is_not_followed(tmp_path):
    real = tmp_path / "real.pem"
    DeviceKey.generate().save(real)
    link = tmp_path / "device-key.pem"
    link.symlink_to(real)
    with pytest.raises(KeyFileError, match="symbolic link"):
        DeviceKey.load(link)


def test_a_key_owned_by_another_user_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "device-key.pem"
    DeviceKey.generate().save(path)
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(path).st_uid + 1)
    with pytest.raises(KeyFileError, match=r"owned by uid .* chown"):
        DeviceKey.load(path)


def test_saving_never_replaces_an_existing_key(tmp_path):
    path = tmp_path / "device-key.pem"
    first = DeviceKey.generate()
    first.save(path)
    before = path.read_bytes()
    with pytest.raises(KeyExistsError, match="already there; it is kept"):
        DeviceKey.generate().save(path)
    assert path.read_bytes() == before and DeviceKey.load(path).kid == first.kid
    assert sorted(p.name for p in tmp_path.iterdir()) == ["device-key.pem"]


def test_replacing_a_key_is_its_own_explicit_call(tmp_path):
    path = tmp_path / "device-key.pem"
    DeviceKey.generate().save(path)
    second = DeviceKey.generate()
    second.replace_file(path)
    assert DeviceKey.load(path).kid == second.kid
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["device-key.pem"]


def test_attack_planted_links_do_not_redirect_the_key(tmp_path):
    """The old save wrote through a predictable `<key>.tmp` and followed links: an attacker who
    could write the directory planted `device-key.pem.tmp` → a file of his, and read the key."""
    stolen = tmp_path / "attacker-owned.pem"
    path = tmp_path / "device-key.pem"
    path.with_name(path.name + ".tmp").symlink_to(stolen)
    DeviceKey.generate().save(path)
    assert not stolen.exists()
    # A dangling link planted at the key's own path is not written through either.
    other = tmp_path / "second-key.pem"
    other.symlink_to(tmp_path / "elsewhere.pem")
    with pytest.raises(KeyExistsError):
        DeviceKey.generate().save(other)
    assert not (tmp_path / "elsewhere.pem").exists()


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


# --- canonical signatures (§6: "signatures can be re-encoded") ------------------------------


@given(st.binary(min_size=1, max_size=64))
def test_every_signature_we_make_is_low_s(message):
    signature = other_key().sign(message)
    assert split(signature)[1] <= HALF_ORDER and is_canonical(signature)


def test_attack_high_s_twin_of_a_jws_is_refused():
    key = DeviceKey.generate()
    token = key.jws(b'{"amount":12000}')
    head, body, signature = token.split(".")
    twin = b64url(high_s_twin(b64url_decode(signature)))
    with pytest.raises(JwsError, match="does not verify"):
        jws_verify(f"{head}.{body}.{twin}", {key.kid: key.public_key})


def test_attack_high_s_twin_of_a_platform_code_is_refused():
    key = other_key()
    keys = PlatformKeys({"p1": key.public_key})
    from terminal.core.sealed import key_tag

    signature = key.sign(b"message")
    assert keys.check_tagged(key_tag("p1"), b"message", signature)
    assert not keys.check_tagged(key_tag("p1"), b"message", high_s_twin(signature))


@given(st.binary(max_size=80))
def test_base64url_round_trips(data):
    assert b64url_decode(b64url(data)) == data


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ \n"))
def test_base64url_accepts_only_the_one_text_it_writes(text):
    try:
        data = b64url_decode(text)
    except ValueError:
        return
    assert b64url(data) == text


def test_base64url_canonical_texts_of_one_and_two_bytes():
    assert b64url_decode("QQ") == b"A" and b64url_decode("QUI") == b"AB"


@pytest.mark.parametrize(
    "text", ["QR", "QS", "QT", "QUJ", "QUK", "A", "QQ=", "QQ\n", "Q Q", "ＡＡ", "٣٣", "Q+", "Q/"]
)
def test_base64url_refuses_non_canonical_texts(text):
    """QR, QS, QT decode to the same byte as QQ with the stdlib; now only QQ is accepted."""
    with pytest.raises(ValueError):
        b64url_decode(text)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-256", "x": 5, "y": "AA"},
        {"kty": "EC", "crv": "P-256", "x": ["a"], "y": None},
        {"kty": "EC", "crv": "P-256"},
    ],
)
def test_a_malformed_jwk_is_a_jws_error_not_a_crash(jwk):
    with pytest.raises(JwsError):
        public_key_from_jwk(jwk)


@pytest.mark.parametrize("kid", [["a"], {"k": 1}, 7])
def test_a_jws_whose_kid_is_not_text_is_a_jws_error_not_a_crash(kid):
    header = b64url(json.dumps({"alg": "ES256", "kid": kid}).encode())
    token = f"{header}.{b64url(b'{}')}.{b64url(bytes(64))}"
    with pytest.raises(JwsError, match="kid"):
        jws_verify(token, {})
