"""Everything one running simulator holds: database, CA, keys, clock, faults, pushed config,
and the events that wake long-polls. Handlers reach it as `request.app[PLATFORM]`."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from terminal.config.loader import load_config
from terminal.core.benefits import BenefitRates
from terminal.sim.platform import db as database
from terminal.sim.platform.clock import Clock
from terminal.sim.platform.faults import Faults
from terminal.sim.platform.keys import SigningKeys
from terminal.sim.platform.pki import Pki, SimulatorStateError
from terminal.sim.platform.problems import Problem

ISSUER = "IE"  # the two letters in tokens and receipts (terminal/core/tokens.py)
DB_FILE = "platform.db"


@dataclass(frozen=True)
class Device:
    device_id: str
    merchant_id: str
    certificate_serial: str
    public_key: ec.EllipticCurvePublicKey
    not_after_ms: int


@dataclass
class Platform:
    state_dir: Path
    db: sqlite3.Connection
    pki: Pki
    clock: Clock
    faults: Faults
    keys: SigningKeys
    charge_events: dict[str, asyncio.Event] = field(default_factory=dict)
    # Called with the charge id when a long-poll starts waiting: lets a test pay at that moment
    # instead of sleeping and hoping the waiter got there first.
    on_wait: list[Callable[[str], None]] = field(default_factory=list)

    @classmethod
    def open(cls, state_dir: Path, clock: Clock | None = None, faults: Faults | None = None):
        clock = clock or Clock()
        faults = faults or Faults()
        state_dir.mkdir(parents=True, exist_ok=True)
        pki = Pki.open(state_dir, clock.now_datetime())  # before the database is touched
        try:
            db = database.connect(state_dir / DB_FILE)
        except sqlite3.DatabaseError as error:
            if getattr(error, "sqlite_errorname", "") == "SQLITE_FULL":
                advice = "free some space, or use a --state-dir on another disk"
            else:
                advice = "restore it, or use a new --state-dir"
            raise SimulatorStateError(f"{state_dir / DB_FILE}: {error}; {advice}") from None
        platform = cls(
            state_dir=state_dir,
            db=db,
            pki=pki,
            clock=clock,
            faults=faults,
            keys=SigningKeys(db, clock.now_ms()),
        )
        if platform.config_version() == 0:
            platform.push_config(initial_config())
        return platform

    def close(self) -> None:
        self.db.close()

    # -- configuration pushed to devices -------------------------------------------------------

    def config_version(self) -> int:
        row = self.db.execute("SELECT max(version) FROM config_versions").fetchone()
        return row[0] or 0

    def config(self) -> dict:
        row = self.db.execute(
            "SELECT body FROM config_versions ORDER BY version DESC LIMIT 1"
        ).fetchone()
        return json.loads(row[0])

    def push_config(self, changes: dict) -> dict:
        """A new version: the current sections updated with `changes` ({section: {key: v}})."""
        body = self.config() if self.config_version() else {}
        for section, values in changes.items():
            if isinstance(values, dict):
                body[section] = {**body.get(section, {}), **values}
            else:
                body[section] = values
        body["version"] = self.config_version() + 1
        self.db.execute(
            "INSERT INTO config_versions (version, body) VALUES (?, ?)",
            (body["version"], json.dumps(body, ensure_ascii=False)),
        )
        return body

    def rates(self) -> BenefitRates:
        config = self.config()
        b = config["benefits"]
        return BenefitRates(
            b["city_rate_bp"],
            b["city_monthly_cap_won"],
            b["district_topup_bp"],
            b["district_monthly_cap_won"],
            config["merchant"]["sangsaeng_rate_bp"],
        )

    # -- devices --------------------------------------------------------------------------------

    def device_for_certificate(self, der: bytes) -> Device:
        """The enrolled device a verified client certificate belongs to, or a 401/403 problem."""
        certificate = _parse_certificate(der)
        serial = format(certificate.serial_number, "x")
        row = self.db.execute(
            "SELECT device_id, revoked_ms FROM certificates WHERE serial = ?", (serial,)
        ).fetchone()
        if row is None:
            raise Problem(
                403, "show", "unknown_device", "this certificate was not issued to a device"
            )
        if row[1] is not None:
            raise Problem(403, "show", "certificate_revoked", "this certificate has been revoked")
        not_after_ms = int(certificate.not_valid_after_utc.timestamp() * 1000)
        if self.clock.now_ms() >= not_after_ms:
            raise Problem(401, "show", "certificate_expired", "the device certificate has expired")
        merchant = self.db.execute(
            "SELECT merchant_id FROM devices WHERE device_id = ?", (row[0],)
        ).fetchone()[0]
        public_key = certificate.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        return Device(row[0], merchant, serial, public_key, not_after_ms)

    def device_keys(self, device_id: str) -> list[ec.EllipticCurvePublicKey]:
        """Public keys of every unrevoked certificate the device holds (renewal may add one)."""
        rows = self.db.execute(
            "SELECT pem FROM certificates WHERE device_id = ? AND revoked_ms IS NULL",
            (device_id,),
        ).fetchall()
        keys = []
        for (pem,) in rows:
            key = x509.load_pem_x509_certificate(pem.encode()).public_key()
            assert isinstance(key, ec.EllipticCurvePublicKey)
            keys.append(key)
        return keys

    def device_merchant(self, device_id: str) -> str | None:
        row = self.db.execute(
            "SELECT merchant_id FROM devices WHERE device_id = ?", (device_id,)
        ).fetchone()
        return row[0] if row else None

    def revoke(self, serial: str) -> bool:
        """Revokes the certificate and with it every certificate of its device: whoever holds a
        stolen key could have renewed it into a new certificate (with a key of their own) that
        revoking the stolen serial alone would leave valid. The device enrolls again."""
        row = self.db.execute(
            "SELECT device_id FROM certificates WHERE serial = ? AND revoked_ms IS NULL",
            (serial.lower(),),
        ).fetchone()
        if row is None:
            return False
        self.revoke_device(row[0])
        return True

    def revoke_device(self, device_id: str) -> list[str]:
        """Revokes every certificate issued to the device; returns the serials revoked now."""
        serials = [
            row[0]
            for row in self.db.execute(
                "SELECT serial FROM certificates WHERE device_id = ? AND revoked_ms IS NULL",
                (device_id,),
            )
        ]
        self.db.execute(
            "UPDATE certificates SET revoked_ms = ? WHERE device_id = ? AND revoked_ms IS NULL",
            (self.clock.now_ms(), device_id),
        )
        return serials

    # -- long-poll wake-ups ---------------------------------------------------------------------

    def charge_event(self, charge_id: str) -> asyncio.Event:
        return self.charge_events.setdefault(charge_id, asyncio.Event())

    def charge_changed(self, charge_id: str) -> None:
        """Wakes every long-poll waiting on the charge (call on the server's loop)."""
        event = self.charge_events.pop(charge_id, None)
        if event is not None:
            event.set()


@lru_cache(maxsize=4096)
def _parse_certificate(der: bytes) -> x509.Certificate:
    return x509.load_der_x509_certificate(der)


def initial_config() -> dict:
    """Version 1: the merchant, rates and limits of firmware_config's defaults."""
    config = load_config(device_file=None, env={}).config
    return {
        "issuer": config.device.issuer,
        "merchant": asdict(config.merchant),
        "benefits": asdict(config.benefits),
        "offline": asdict(config.offline),
        "qr": asdict(config.qr),
    }


PLATFORM: web.AppKey[Platform] = web.AppKey("platform", Platform)
