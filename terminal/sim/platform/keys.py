"""The platform's signing keys: at least two ES256 keys, the newest signs, rotation on demand."""

from __future__ import annotations

import sqlite3

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from terminal.signing import DeviceKey, PlatformKeys, jwks_document

KEPT = 2  # keys published; the oldest beyond this is dropped at rotation


class SigningKeys:
    """Keys in the simulator's database, newest first."""

    def __init__(self, db: sqlite3.Connection, now_ms: int):
        self._db = db
        while self._count() < KEPT:
            self._add(now_ms)
        self._load()

    def _count(self) -> int:
        return self._db.execute("SELECT count(*) FROM platform_keys").fetchone()[0]

    def _add(self, now_ms: int) -> None:
        key = DeviceKey.generate()
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        # created_ms must order keys even when two are made in the same millisecond
        newest = self._db.execute("SELECT max(created_ms) FROM platform_keys").fetchone()[0]
        created = max(now_ms, (newest or 0) + 1)
        self._db.execute(
            "INSERT INTO platform_keys (kid, pem, created_ms) VALUES (?, ?, ?)",
            (key.kid, pem, created),
        )

    def _load(self) -> None:
        rows = self._db.execute(
            "SELECT pem FROM platform_keys ORDER BY created_ms DESC LIMIT ?", (KEPT,)
        ).fetchall()
        keys = []
        for (pem,) in rows:
            private = serialization.load_pem_private_key(pem.encode(), password=None)
            assert isinstance(private, ec.EllipticCurvePrivateKey)
            keys.append(DeviceKey(private))
        self.keys: list[DeviceKey] = keys

    @property
    def current(self) -> DeviceKey:
        return self.keys[0]

    def rotate(self, now_ms: int) -> str:
        """A new key signs from now on; returns its kid."""
        self._add(now_ms)
        self._db.execute(
            "DELETE FROM platform_keys WHERE kid NOT IN "
            "(SELECT kid FROM platform_keys ORDER BY created_ms DESC LIMIT ?)",
            (KEPT,),
        )
        self._load()
        return self.current.kid

    def public(self) -> dict[str, ec.EllipticCurvePublicKey]:
        return {key.kid: key.public_key for key in self.keys}

    def jwks(self) -> dict:
        return jwks_document(self.public())

    def verifier(self) -> PlatformKeys:
        return PlatformKeys(self.public())
