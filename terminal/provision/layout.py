"""Where a provisioned terminal keeps its files: one table for provisioning, selftest, renewal
and diagnostics, so they can never disagree about a path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Fixed locations on the device (the systemd units name the same ones).
ETC_DIR = Path("/etc/qr-terminal")
DEVICE_FILE = ETC_DIR / "device.toml"
OPT_DIR = Path("/opt/qr-terminal")
UNIT_DIR = Path("/etc/systemd/system")
SERVICE_USER = "qr-terminal"
STATE_DIR = "/var/lib/qr-terminal"  # the service user's home; [paths] state_dir by default
MAIN_UNIT = "qr-terminal.service"
TIMERS = ("qr-terminal-day-close.timer", "qr-terminal-cert-renew.timer")

# Inside the state directory, beside the key, certificate and database that [paths] names.
PLATFORM_CA = "platform-ca.pem"  # the platform's CA: trust anchor for its server and our cert
PLATFORM_KEYS = "platform-keys.json"  # the platform's JWKS, refreshed by sync
ENROLLMENT = "enrollment.json"  # device id, platform URL, when: what provisioning did


class ProvisionedPaths:
    """The [paths] provisioning writes into device.toml: the defaults, in STATE_DIR. Also what
    the selftest and diagnostics assume when the configuration does not load."""

    state_dir = STATE_DIR
    database = "terminal.db"
    device_key = "device-key.pem"
    device_cert = "device-cert.pem"


def under(root: Path | None, path: Path | str) -> Path:
    """`path` as seen from a tree rooted at `root` (provisioning with --root), else itself."""
    path = Path(path)
    if root is None:
        return path
    return Path(root) / path.relative_to(path.anchor) if path.is_absolute() else Path(root) / path


@dataclass(frozen=True)
class StateFiles:
    state_dir: Path
    key: Path
    cert: Path
    database: Path
    platform_ca: Path
    platform_keys: Path
    enrollment: Path

    @classmethod
    def from_paths(cls, paths, root: Path | None = None) -> StateFiles:
        """From a PathsConfig: relative names live in its state_dir."""
        state = under(root, paths.state_dir)

        def inside(name: str) -> Path:
            return under(root, name) if Path(name).is_absolute() else state / name

        return cls(
            state_dir=state,
            key=inside(paths.device_key),
            cert=inside(paths.device_cert),
            database=inside(paths.database),
            platform_ca=state / PLATFORM_CA,
            platform_keys=state / PLATFORM_KEYS,
            enrollment=state / ENROLLMENT,
        )
