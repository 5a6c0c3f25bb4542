"""A misbehaving platform over real HTTPS on 127.0.0.1 (aiohttp, its own CA): answers every
request with what the test asks for, e.g. broken JSON, the wrong content type, a 100 MB body,
or acknowledgements of ids that were never sent."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Behaviour = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_ca_and_server_cert(folder: Path) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key) for 127.0.0.1, from a fresh CA."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bad server test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())

    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


class BadServer:
    def __init__(self, folder: Path):
        self.ca, cert, key = make_ca_and_server_cert(folder)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.behaviour: Behaviour | None = None
        self.requests = 0
        self._ready = threading.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        await request.read()
        return await self.behaviour(request)

    def start(self) -> BadServer:
        def run():
            self.loop = asyncio.new_event_loop()
            app = web.Application(client_max_size=4 << 20)
            app.router.add_route("*", "/{tail:.*}", self._handle)
            self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.context)
            self.loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]
            self._ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self.runner.cleanup())
            self.loop.close()

        self._thread = threading.Thread(target=run, name="bad-server", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        return self

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)


async def endless_body(request: web.Request, declared: bool) -> web.StreamResponse:
    """100 MB of JSON-looking bytes, announced in Content-Length or chunked."""
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    total = 100 * 1024 * 1024
    if declared:
        response.content_length = total
    await response.prepare(request)
    chunk = b" " * (1024 * 1024)
    try:
        for _ in range(total // len(chunk)):
            await response.write(chunk)
    except (ConnectionError, RuntimeError):
        pass  # the client hung up, as it should
    return response
