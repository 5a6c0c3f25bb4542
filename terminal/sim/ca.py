"""The platform simulator's certificate authority: signs device CSRs at enrollment."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


class SimCA:
    def __init__(self, now: datetime.datetime):
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "e-eum simulator device CA")])
        self.now = now
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def issue(self, csr_pem: bytes, device_id: str, days: int = 825) -> bytes:
        """A device certificate (PEM) for the key in `csr_pem`, named `device_id`: the subject
        has exactly one CN, the device id (whatever CN the CSR asked for), which is what
        `journal verify --cert --ca` checks against every record (terminal/ledger/certs.py)."""
        csr = x509.load_pem_x509_csr(csr_pem)
        if not csr.is_signature_valid:
            raise ValueError("the CSR's signature does not verify")
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, device_id),
                *csr.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(csr.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - datetime.timedelta(minutes=5))
            .not_valid_after(self.now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        return certificate.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def from_pem(cls, certificate_pem: bytes, key_pem: bytes, now: datetime.datetime) -> SimCA:
        """A CA loaded from its files (the platform simulator keeps one across runs)."""
        ca = cls.__new__(cls)
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("the simulator CA key must be EC")
        ca.key, ca.now = key, now
        ca.certificate = x509.load_pem_x509_certificate(certificate_pem)
        return ca

    def pem(self) -> tuple[bytes, bytes]:
        """(certificate PEM, unencrypted PKCS#8 key PEM)."""
        return (
            self.certificate.public_bytes(serialization.Encoding.PEM),
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
