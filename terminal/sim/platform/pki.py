"""The simulator's certificates on disk: its CA, its server certificate, and the TLS context that
asks every client for a device certificate from that CA."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from terminal.sim.ca import SimCA

CA_CERT, CA_KEY = "ca-cert.pem", "ca-key.pem"
SERVER_CERT, SERVER_KEY = "server-cert.pem", "server-key.pem"
SERVER_NAMES = ("127.0.0.1", "localhost")


def _write_private(path: Path, data: bytes) -> None:
    """Writes a key file 0600 via a temporary name, so a crash never leaves half a key."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class SimulatorStateError(Exception):
    """The simulator's state directory is damaged; the message names the file and the fix."""


@dataclass
class Pki:
    """The CA and the server certificate of one simulator state directory."""

    state_dir: Path
    ca: SimCA

    @property
    def ca_path(self) -> Path:
        return self.state_dir / CA_CERT

    @property
    def ca_pem(self) -> bytes:
        return self.ca_path.read_bytes()

    @classmethod
    def open(cls, state_dir: Path, now: datetime.datetime) -> Pki:
        """Loads the CA and server certificate, making them on the first run."""
        state_dir.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = state_dir / CA_CERT, state_dir / CA_KEY
        if cert_path.exists() != key_path.exists():
            # A new CA would silently cut off every enrolled device: refuse instead.
            missing = key_path if cert_path.exists() else cert_path
            raise SimulatorStateError(
                f"{missing}: missing beside its partner; restore it, or start the simulator "
                "with a new --state-dir (every device must then enroll again)"
            )
        if cert_path.exists():
            try:
                ca = SimCA.from_pem(cert_path.read_bytes(), key_path.read_bytes(), now)
            except ValueError as error:
                raise SimulatorStateError(
                    f"{cert_path} / {key_path}: not a usable CA ({error}); restore them, or use "
                    "a new --state-dir"
                ) from None
        else:
            ca = SimCA(now)
            certificate_pem, key_pem = ca.pem()
            _write_private(key_path, key_pem)
            cert_path.write_bytes(certificate_pem)
        pki = cls(state_dir, ca)
        if not (state_dir / SERVER_CERT).exists() or not (state_dir / SERVER_KEY).exists():
            pki._issue_server_certificate(now)
        return pki

    def _issue_server_certificate(self, now: datetime.datetime) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        names = [
            x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n)
            for n in SERVER_NAMES
        ]
        certificate = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "platform simulator")])
            )
            .issuer_name(self.ca.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self.ca.key, hashes.SHA256())
        )
        _write_private(self.state_dir / SERVER_KEY, _key_pem(key))
        (self.state_dir / SERVER_CERT).write_bytes(
            certificate.public_bytes(serialization.Encoding.PEM)
        )

    def issue_device(
        self, csr_pem: bytes, device_id: str, now: datetime.datetime, days: int = 825
    ) -> x509.Certificate:
        """A device certificate from the CA, valid from `now` (the platform's clock)."""
        self.ca.now = now
        return x509.load_pem_x509_certificate(self.ca.issue(csr_pem, device_id, days=days))

    def server_context(self) -> ssl.SSLContext:
        """TLS 1.2+, our server certificate; client certificates asked for and, when sent,
        verified against our CA (expiry included). Enrollment is why it is not CERT_REQUIRED."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.state_dir / SERVER_CERT, self.state_dir / SERVER_KEY)
        context.load_verify_locations(cafile=str(self.ca_path))
        context.verify_mode = ssl.CERT_OPTIONAL
        return context
