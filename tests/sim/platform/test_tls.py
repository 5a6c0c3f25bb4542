"""Mutual TLS: without a certificate from our CA, valid and unrevoked, nothing is served."""

from __future__ import annotations

import datetime
import http.client
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from terminal.signing import DeviceKey
from terminal.sim.ca import SimCA
from terminal.sim.platform.client import DeviceClient, tls_context

from .conftest import anonymous, make_device


def _raw_get(server, context: ssl.SSLContext, path: str) -> bytes:
    """An HTTP/1.1 request written by hand over Python's ssl, the whole answer read back."""
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        tls.sendall(request.encode())
        chunks = []
        while chunk := tls.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_without_a_client_certificate_nothing_but_a_401_problem_comes_back(server, device):
    context = ssl.create_default_context(cafile=str(server.ca_path))
    for path in ("/v1/keys", "/v1/config", "/v1/time?nonce=abcdefgh", "/v1/charges/X"):
        answer = _raw_get(server, context, path)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 401"), head
        assert b"application/problem+json" in head
        assert b"urn:qr-terminal:problem:show:certificate_required" in body
        assert b'"keys"' not in body and b"time_ms" not in body


def test_with_the_device_certificate_the_same_request_is_served(server, device):
    context = tls_context(server.ca_path, device.enrolled.certificate_pem, device.key)
    head, _, body = _raw_get(server, context, "/v1/keys").partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b'"keys"' in body


def test_enrollment_is_the_only_operation_served_without_one(server):
    client = anonymous(server)
    enrollment = {"code": "0000-0000-0000", "csr": "x"}
    assert client.request("POST", "/v1/enrollments", enrollment).status in (403, 422)
    for method, path, body in [
        ("GET", "/v1/openapi.yaml", None),
        ("POST", "/v1/transactions", {"records": []}),
        ("POST", "/v1/charges", {}),
        ("POST", "/v1/authorizations", {}),
        ("POST", "/v1/refunds", {}),
        ("POST", "/v1/certificates", {"csr": "x"}),
        ("POST", "/v1/charges/0123456789ABCDEFGHJK/cancel", None),
    ]:
        answer = client.request(method, path, body)
        assert answer.status == 401, (path, answer.body)
    client.close()


def _client_with(server, certificate_pem: bytes, key: DeviceKey) -> DeviceClient:
    return DeviceClient(server.url, tls_context(server.ca_path, certificate_pem, key))


def _refused_at_tls(client: DeviceClient) -> None:
    with pytest.raises((ssl.SSLError, ConnectionError, http.client.HTTPException)):
        client.request("GET", "/v1/keys")
    client.close()


def test_a_certificate_from_another_ca_is_refused_by_the_handshake(server):
    key = DeviceKey.generate()
    stranger = SimCA(datetime.datetime.now(datetime.UTC))
    pem = stranger.issue(key.csr("STRANGER"), "SIM-0000001")  # even with a real device's name
    _refused_at_tls(_client_with(server, pem, key))


def test_an_expired_certificate_from_our_ca_is_refused_by_the_handshake(server):
    key = DeviceKey.generate()
    long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)
    certificate = server.call(lambda p: p.pki.issue_device(key.csr("OLD"), "SIM-OLD", long_ago, 1))
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    _refused_at_tls(_client_with(server, pem, key))


def test_a_revoked_certificate_gets_403_and_nothing_else(server):
    made = make_device(server)
    assert made.get("/v1/keys").status == 200
    serial = format(
        x509.load_pem_x509_certificate(made.enrolled.certificate_pem).serial_number, "x"
    )
    assert server.call(lambda p: p.revoke(serial))
    made.client.close()
    answer = made.get("/v1/keys")
    assert answer.status == 403
    assert answer.json()["type"] == "urn:qr-terminal:problem:show:certificate_revoked"
    made.client.close()


def test_a_certificate_of_our_ca_the_platform_never_recorded_is_refused(server):
    key = DeviceKey.generate()
    now = datetime.datetime.now(datetime.UTC)
    certificate = server.call(lambda p: p.pki.issue_device(key.csr("GHOST"), "SIM-GHOST", now))
    client = _client_with(server, certificate.public_bytes(serialization.Encoding.PEM), key)
    answer = client.request("GET", "/v1/keys")
    assert answer.status == 403
    assert answer.json()["type"].endswith(":show:unknown_device")
    client.close()


def test_the_server_certificate_is_issued_by_the_platform_ca_for_127_0_0_1(server):
    context = ssl.create_default_context(cafile=str(server.ca_path))
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
    other = ssl.create_default_context()  # the system's CAs do not know the simulator
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        other.wrap_socket(raw, server_hostname="127.0.0.1")
