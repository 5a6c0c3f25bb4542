"""A provisioned terminal's files in a temporary folder: device file, key, certificate issued
by a platform CA, the CA itself, and (on request) a ledger with records."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from terminal.ledger.store import Ledger
from terminal.signing import DeviceKey
from terminal.sim.ca import SimCA
from tests.ledger.helpers import T0

DEVICE = "D-TEST-0001"
DAY_MS = 86_400_000


@dataclass
class Terminal:
    device_file: Path
    state: Path
    key: DeviceKey

    @property
    def database(self) -> Path:
        return self.state / "terminal.db"

    def ledger(self) -> Ledger:
        return Ledger(self.database, self.key, DEVICE)


def provisioned(folder: Path, *, cert_days: int = 825, platform_url: str = "") -> Terminal:
    state = folder / "state"
    state.mkdir(mode=0o700)
    key = DeviceKey.generate()
    key.save(state / "device-key.pem")
    ca = SimCA(datetime.datetime.fromtimestamp(T0 / 1000, datetime.UTC))
    (state / "device-cert.pem").write_bytes(ca.issue(key.csr("SERIAL-1"), DEVICE, days=cert_days))
    (state / "platform-ca.pem").write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    device_file = folder / "device.toml"
    platform = f'[platform]\nurl = "{platform_url}"\n' if platform_url else ""
    device_file.write_text(
        f'[device]\nid = "{DEVICE}"\n\n{platform}[paths]\nstate_dir = "{state}"\n',
        encoding="utf-8",
    )
    return Terminal(device_file, state, key)
