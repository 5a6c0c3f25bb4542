"""Who signed a journal: the device certificate must chain to the platform CA, be valid at each
record's time, and name the device.

The device is named by the certificate subject's common name (CN): exactly one CN, equal to the
device id in every record and in the export's end line. The platform CA (terminal/sim/ca.py in
simulation) issues device certificates that way; a URI SAN is not used.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from terminal.core.records import Record
from terminal.files import require_regular
from terminal.ledger.verify import ExportReport, Problem, inspect_export

MAX_PEM_BYTES = 1024 * 1024


class CertificateError(ValueError):
    """A certificate file that cannot be used at all (unreadable, not PEM, wrong key type)."""


def load_certificates(path: Path, what: str) -> list[x509.Certificate]:
    """Every certificate in a PEM file; CertificateError names the file and what is wrong."""
    require_regular(path, f"{what} certificate PEM file")  # a fifo would hang
    with path.open("rb") as file:  # OSError (missing, directory, permission) for the caller
        data = file.read(MAX_PEM_BYTES + 1)
    if len(data) > MAX_PEM_BYTES:
        raise CertificateError(f"{path}: over {MAX_PEM_BYTES} bytes; not a {what} PEM file")
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError as error:
        raise CertificateError(f"{path}: not a PEM {what} certificate ({error})") from None
    return certificates


def load_device_certificate(path: Path) -> x509.Certificate:
    certificate = load_certificates(path, "device")[0]
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise CertificateError(
            f"{path}: the device certificate must hold an EC P-256 key (device keys are ES256), "
            f"this one holds {type(key).__name__.lstrip('_')}"
        )
    return certificate


def device_id_of(certificate: x509.Certificate) -> str | None:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if len(names) == 1 else None


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def find_issuer(
    certificate: x509.Certificate, authorities: Iterable[x509.Certificate]
) -> tuple[x509.Certificate | None, str]:
    """The CA that signed `certificate`, or None and why not."""
    if certificate.issuer == certificate.subject:
        return None, "the device certificate is self-signed, not issued by the platform CA"
    if _is_ca(certificate):
        return None, "the device certificate is a CA certificate, not a device's"
    reason = "no certificate in --ca issued it (issuer names differ)"
    for authority in authorities:
        if authority.subject != certificate.issuer:
            continue
        if not _is_ca(authority):
            reason = "the --ca certificate that names its issuer is not a CA certificate"
            continue
        try:
            certificate.verify_directly_issued_by(authority)
        except (ValueError, TypeError, InvalidSignature):
            reason = "its signature does not verify with the platform CA's key"
            continue
        return authority, ""
    return None, reason


def _utc(time_ms: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(time_ms / 1000, datetime.UTC)


def _validity_problem(certificate: x509.Certificate, what: str, time_ms: int) -> str | None:
    at = _utc(time_ms)
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if start <= at <= end:
        return None
    state = "not yet valid" if at < start else "expired"
    return (
        f"signed at {at:%Y-%m-%d %H:%M:%S} UTC, when the {what} certificate was {state} "
        f"(valid {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC)"
    )


def verify_signed_by(
    lines: Iterable[str], certificate: x509.Certificate, authorities: list[x509.Certificate]
) -> ExportReport:
    """The full check: the export itself (verify.py) plus who signed it."""
    device = device_id_of(certificate)
    issuer, reason = find_issuer(certificate, authorities)
    first: list[Problem] = []
    if issuer is None:
        first.append(Problem(0, f"certificate not trusted: {reason}"))
    if device is None:
        first.append(Problem(0, "the certificate's subject needs exactly one CN (the device id)"))

    def check(record: Record) -> list[str]:
        found = []
        if device is not None and record.device_id != device:
            found.append(f"record of device {record.device_id}, certificate names {device}")
        for cert, what in ((certificate, "device"), (issuer, "CA")):
            problem = cert and _validity_problem(cert, what, record.time_ms)
            if problem:
                found.append(problem + ("" if record.clock_synced else " (clock not synced)"))
        return found

    report = inspect_export(lines, certificate.public_key(), check)
    if device is not None and report.end and report.end.get("device_id") != device:
        first.append(
            Problem(0, f"end line names device {report.end.get('device_id')}, certificate {device}")
        )
    report.problems[:0] = first
    return report
