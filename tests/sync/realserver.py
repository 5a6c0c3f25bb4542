"""The real platform simulator (HTTPS + mTLS on 127.0.0.1) and an enrolled device for it: key
and certificate files, the pinned CA from enrollment, and a ledger under the device's id."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from terminal.ledger.store import Ledger
from terminal.signing import DeviceKey
from terminal.sim.platform.server import PlatformServer
from terminal.sync.client import PlatformClient, enroll
from terminal.sync.transport import Timeouts, TlsFiles


@dataclass
class Device:
    device_id: str
    key: DeviceKey
    tls: TlsFiles
    folder: Path
    url: str
    merchant: dict

    def client(self, **options) -> PlatformClient:
        return PlatformClient.connect(self.url, self.tls, Timeouts(5, 10), **options)

    def ledger(self) -> Ledger:
        return Ledger(self.folder / "terminal.db", self.key, self.device_id)


def enroll_device(server: PlatformServer, folder: Path, serial: str = "SERIAL-1") -> Device:
    """Enrolls a new device through the simulator's enrollment endpoint, as provisioning does."""
    folder.mkdir(parents=True, exist_ok=True)
    key = DeviceKey.generate()
    enrolled = enroll(server.url, server.ca_path, server.new_code(), key.csr(serial))
    key.save(folder / "device.key")
    (folder / "device.crt").write_text(enrolled.certificate)
    (folder / "platform-ca.pem").write_text("".join(enrolled.ca_chain))
    tls = TlsFiles(
        ca=folder / "platform-ca.pem", cert=folder / "device.crt", key=folder / "device.key"
    )
    return Device(enrolled.device_id, key, tls, folder, server.url, dict(enrolled.merchant))


def platform_records(server: PlatformServer, device_id: str) -> dict[str, str]:
    """What the platform holds for a device: txn_id → JWS."""
    return server.call(
        lambda platform: dict(
            platform.db.execute(
                "SELECT txn_id, jws FROM records WHERE device_id = ?", (device_id,)
            ).fetchall()
        )
    )
