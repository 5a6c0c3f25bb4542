"""What the timers run on a provisioned terminal: renewing the device certificate before it
expires (same key, mTLS with the current certificate), and closing a day left open."""

from __future__ import annotations

import datetime
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from terminal.ledger.certs import device_id_of, find_issuer, load_certificates
from terminal.provision.files import atomic_write
from terminal.provision.layout import MAIN_UNIT, StateFiles
from terminal.signing import DeviceKey

CLOSE_REQUEST = "requests/close-day"


class MaintenanceError(Exception):
    """The job could not be done; the message says why and what to do. The timer retries."""


@dataclass(frozen=True)
class Renewal:
    renewed: bool
    not_after: datetime.datetime
    days_left: int


def renew_certificate(
    files: StateFiles, url: str, now_ms: int, days_before: int, *, force: bool = False
) -> Renewal:
    """Renews when fewer than `days_before` days are left (or `force`); the new certificate is
    checked (a PEM certificate for our key, naming this device, from the platform CA) before
    it is written, atomically, over the old one. Anything else: MaintenanceError, nothing
    replaced."""
    from terminal.sync.client import PlatformClient
    from terminal.sync.errors import SyncError
    from terminal.sync.transport import Timeouts, TlsFiles

    current = _current_certificate(files)
    device_id = device_id_of(current)
    if device_id is None:
        raise MaintenanceError(
            f"{files.cert} names no device id (one subject CN); re-enroll: "
            "sudo scripts/provision --reenroll"
        )
    now = datetime.datetime.fromtimestamp(now_ms / 1000, datetime.UTC)
    left = (current.not_valid_after_utc - now).days
    if left >= days_before and not force:
        return Renewal(False, current.not_valid_after_utc, left)
    if current.not_valid_after_utc <= now:
        raise MaintenanceError(
            f"{files.cert} expired on {current.not_valid_after_utc:%Y-%m-%d}: an expired "
            "certificate cannot renew itself; re-enroll: sudo scripts/provision --reenroll"
        )
    key = DeviceKey.load(files.key)
    serial = current.subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER)
    csr = key.csr(str(serial[0].value) if serial else "unknown", device_id)
    tls = TlsFiles(ca=files.platform_ca, cert=files.cert, key=files.key)
    client = PlatformClient.connect(url, tls, Timeouts(10, 30))
    try:
        answer = client.renew_certificate(csr)
    except SyncError as error:
        raise MaintenanceError(f"renewal at {url} failed: {error}; the timer tries again") from None
    finally:
        client.close()
    fresh = _checked_renewal(answer["certificate"], key, device_id, files.platform_ca, now)
    atomic_write(files.cert, fresh.public_bytes(serialization.Encoding.PEM), 0o600)
    return Renewal(True, fresh.not_valid_after_utc, (fresh.not_valid_after_utc - now).days)


def _current_certificate(files: StateFiles) -> x509.Certificate:
    try:
        return load_certificates(files.cert, "device")[0]
    except OSError as error:
        raise MaintenanceError(
            f"{files.cert}: {error.strerror}; re-enroll: sudo scripts/provision --reenroll"
        ) from None
    except ValueError:
        raise MaintenanceError(
            f"{files.cert}: not a PEM certificate; re-enroll: sudo scripts/provision --reenroll"
        ) from None


def _checked_renewal(
    text: str, key: DeviceKey, device_id: str, platform_ca: Path, now: datetime.datetime
) -> x509.Certificate:
    """The platform's new certificate, if it is one we may install in place of the old."""
    kept = "kept the old one; the timer tries again"
    try:
        fresh = x509.load_pem_x509_certificate(text.encode())
    except ValueError:
        raise MaintenanceError(f"the platform's answer is not a PEM certificate; {kept}") from None
    if fresh.public_key().public_numbers() != key.public_key.public_numbers():
        raise MaintenanceError(f"the renewed certificate is not for this device's key; {kept}")
    named = device_id_of(fresh)
    if named != device_id:
        raise MaintenanceError(
            f"the renewed certificate names {named!r}, not this device {device_id}; {kept}"
        )
    if fresh.not_valid_after_utc <= now:
        raise MaintenanceError(f"the renewed certificate has already expired; {kept}")
    try:
        anchors = load_certificates(platform_ca, "platform CA")
    except (OSError, ValueError) as error:
        raise MaintenanceError(f"no platform CA to check it against ({error}); {kept}") from None
    authority, _ = find_issuer(fresh, anchors)
    if authority is None:
        raise MaintenanceError(f"the renewed certificate is not from the platform CA; {kept}")
    return fresh


# The only answers of `systemctl is-active` that mean the terminal cannot be writing its ledger
# (a unit systemd does not know also reads "inactive"). Anything else, "deactivating" included,
# and no answer at all, counts as running: a second writer beside the app breaks its next sale.
STOPPED = ("inactive", "failed")
RUNNING = ("active", "activating", "reloading")
SYSTEMCTL_TIMEOUT_S = 10.0


def service_state(unit: str = MAIN_UNIT, timeout_s: float = SYSTEMCTL_TIMEOUT_S) -> str | None:
    """`systemctl is-active`'s answer ("" when it said nothing), or None if it could not be
    asked (no systemctl, it did not start, it hung)."""
    if shutil.which("systemctl") is None:
        return None
    try:
        result = subprocess.run(
            ["systemctl", "is-active", unit], capture_output=True, text=True, timeout=timeout_s
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip()


def service_running(unit: str = MAIN_UNIT, timeout_s: float = SYSTEMCTL_TIMEOUT_S) -> bool:
    """Whether systemd may be running the terminal (then it is the ledger's only writer).
    Fails safe: a missing systemctl, a D-Bus error, a hang or an unknown answer mean yes."""
    return service_state(unit, timeout_s) not in STOPPED


def service_seen_running(unit: str = MAIN_UNIT) -> bool:
    """Whether systemd says the terminal runs (so it holds the devices): for the selftest,
    which opens the devices itself unless it knows they are taken."""
    return service_state(unit) in RUNNING


def close_day(files: StateFiles, device_id: str, now_ms: int, synced: bool, running: bool) -> str:
    """Closes the day if records were made since the last close. While the terminal runs it
    alone may write the ledger: the request is left for it in the state directory instead."""
    from terminal.core.offline import ClockState
    from terminal.ledger.health import check_database
    from terminal.ledger.store import Ledger

    if not files.database.exists():
        return "no ledger yet: nothing to close"
    health = check_database(files.database)
    if health.since_close == 0:
        return "the day is already closed"
    lock = None if running else _run_lock(files.state_dir)
    if lock is None:  # the service runs, or something holds run.lock: a terminal, or a read
        request = files.state_dir / CLOSE_REQUEST
        request.parent.mkdir(mode=0o700, exist_ok=True)
        atomic_write(request, f"{now_ms}\n".encode())
        return f"asked the running terminal to close the day ({health.since_close} records)"
    try:
        ledger = Ledger(files.database, DeviceKey.load(files.key), device_id)
        try:
            trusted = now_ms if synced else ledger.last_trusted_ms()
            ledger.record_close(clock=ClockState(now_ms, synced, trusted))
        finally:
            ledger.close()
    finally:
        lock.close()
    return f"closed the day ({health.since_close} records)"


def _run_lock(state_dir: Path):
    """The state directory's run.lock taken as the ledger's one writer, or None when another
    process holds it (a terminal systemd does not know of, or a stopped-terminal read)."""
    from terminal.app.errors import AppError
    from terminal.app.lock import StateLock

    try:
        return StateLock.take(state_dir)
    except AppError:
        return None
