"""A small standard-library HTTPS client for the simulator's device API: tests, benches, the
demo's enrollment. Not the terminal's sync client (terminal/sync, with `requests`)."""

from __future__ import annotations

import http.client
import json
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from terminal.signing import DeviceKey


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def tls_context(ca_path: Path, cert_pem: bytes | None = None, key: DeviceKey | None = None):
    """Pins the platform CA; with a certificate and key, presents them as the client."""
    context = ssl.create_default_context(cafile=str(ca_path))
    if cert_pem is not None and key is not None:
        with tempfile.TemporaryDirectory() as folder:
            cert_file, key_file = Path(folder) / "cert.pem", Path(folder) / "key.pem"
            cert_file.write_bytes(cert_pem)
            key_file.write_bytes(_key_pem(key))
            context.load_cert_chain(cert_file, key_file)
    return context


def _key_pem(key: DeviceKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class DeviceClient:
    """One kept-alive connection; reconnects after the server closed it."""

    def __init__(self, url: str, context: ssl.SSLContext, timeout: float = 30.0):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 443
        self.context, self.timeout = context, timeout
        self._connection: http.client.HTTPSConnection | None = None

    def _connect(self) -> http.client.HTTPSConnection:
        if self._connection is None:
            self._connection = http.client.HTTPSConnection(
                self.host, self.port, context=self.context, timeout=self.timeout
            )
        return self._connection

    def request(
        self, method: str, path: str, body: object = None, headers: dict | None = None
    ) -> Answer:
        data = None if body is None else json.dumps(body).encode()
        return self.send(method, path, data, "application/json", headers)

    def send(
        self,
        method: str,
        path: str,
        data: bytes | None,
        content_type: str,
        headers: dict | None = None,
    ) -> Answer:
        """The request with exactly these body bytes (tests send malformed ones too)."""
        sent = {"Content-Type": content_type} if data is not None else {}
        sent.update(headers or {})
        connection = self._connect()
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return Answer(response.status, dict(response.getheaders()), payload)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass(frozen=True)
class Enrolled:
    device_id: str
    key: DeviceKey
    certificate_pem: bytes
    answer: dict

    def client(self, url: str, ca_path: Path) -> DeviceClient:
        return DeviceClient(url, tls_context(ca_path, self.certificate_pem, self.key))


def enroll(url: str, ca_path: Path, code: str, serial: str, key: DeviceKey | None = None):
    """Makes a key (unless given), enrolls it with `code`; raises RuntimeError on refusal."""
    key = key or DeviceKey.generate()
    client = DeviceClient(url, tls_context(ca_path))
    try:
        answer = client.request(
            "POST", "/v1/enrollments", {"code": code, "csr": key.csr(serial).decode()}
        )
    finally:
        client.close()
    if answer.status != 201:
        raise RuntimeError(f"enrollment refused ({answer.status}): {answer.body.decode()}")
    document = answer.json()
    return Enrolled(document["device_id"], key, document["certificate"].encode(), document)
