"""The device key: generate, store (0600), load, CSR, ES256 signing and JWS; platform JWKS keys.

Built on `cryptography` directly rather than a JOSE library: we need key files, CSRs and raw
ES256 for QR codes anyway, and compact JWS with one algorithm is a few lines on top of it.
P-256 so that a secure element (ATECC608, TPM) can hold the key later.

Signatures are canonical (terminal/core/signature.py): we sign low-S and accept only low-S, so
one message has one signature text. Key files are opened without following a symbolic link and
checked on the opened descriptor (a regular file, mode 0600, owned by us); a new key is created
under a random name and linked into place, which fails rather than replace an existing key.
Replacing a key is a separate, explicit call (`DeviceKey.replace_file`).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import NameOID

from terminal.core.base64url import b64url, b64url_decode
from terminal.core.signature import is_canonical, low_s

CURVE = ec.SECP256R1()
# Built once: constructing it costs about as much as hashing a record, on every signature.
ES256 = ec.ECDSA(hashes.SHA256())


MAX_KEY_FILE_BYTES = 16 * 1024  # a P-256 PKCS#8 PEM is about 240 bytes


class KeyFileError(Exception):
    """A key file is missing, unreadable, malformed or too open; a technician must fix it."""


class KeyExistsError(KeyFileError):
    """A key file is already there: saving never replaces a key (see DeviceKey.replace_file)."""


class JwsError(ValueError):
    """A JWS that is malformed, uses another algorithm, names an unknown key or fails to verify."""


def raw_signature(der: bytes) -> bytes:
    """The raw low-S r ‖ s form of a DER signature: the only form we write."""
    return low_s(*decode_dss_signature(der))


def verify_raw(public_key: ec.EllipticCurvePublicKey, message: bytes, signature: bytes) -> bool:
    """Checks a raw r ‖ s ES256 signature; its high-S twin is refused (not canonical)."""
    if not is_canonical(signature):
        return False
    der = encode_dss_signature(int.from_bytes(signature[:32]), int.from_bytes(signature[32:]))
    try:
        public_key.verify(der, message, ES256)
    except InvalidSignature:
        return False
    return True


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
    }


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """RFC 7638 JWK thumbprint cut to 12 base64url characters (72 bits): fits the sale QR."""
    jwk = public_jwk(public_key)
    canonical = json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode()
    return b64url(hashlib.sha256(canonical).digest())[:12]


@dataclass(frozen=True)
class DeviceKey:
    """A P-256 private key held in memory; nothing else in the terminal reads key files."""

    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(ec.generate_private_key(CURVE))

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    @cached_property
    def kid(self) -> str:
        return key_id(self.public_key)

    def sign(self, message: bytes) -> bytes:
        """Raw ES256 signature (r ‖ s, 64 bytes) as JWS and our QR codes use it."""
        return raw_signature(self.private_key.sign(message, ES256))

    def verify(self, message: bytes, signature: bytes) -> bool:
        return verify_raw(self.public_key, message, signature)

    def pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def save(self, path: Path) -> None:
        """Writes the key as PKCS#8 PEM, mode 0600, complete or not at all; never over a key.

        Raises KeyExistsError when anything (a key, a link) is at `path` already.
        """
        path = Path(path)
        temporary = _write_private_temporary(path, self.pem())
        try:
            os.link(temporary, path, follow_symlinks=False)  # fails if anything is at `path`
        except FileExistsError:
            raise KeyExistsError(
                f"{path}: a key file is already there; it is kept. Replacing a device key is a "
                "separate act (it starts a new journal segment): move the old key away first"
            ) from None
        finally:
            os.unlink(temporary)
        _fsync_directory(path.parent)

    def replace_file(self, path: Path) -> None:
        """Writes the key over whatever key file is at `path`: the explicit act of replacing."""
        path = Path(path)
        temporary = _write_private_temporary(path, self.pem())
        try:
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        _fsync_directory(path.parent)

    @classmethod
    def load(cls, path: Path) -> DeviceKey:
        """Reads a key file: a regular file we own, mode 0600 or stricter, not a symbolic link."""
        path = Path(path)
        pem = _read_private_file(path)
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as error:
            raise KeyFileError(
                f"{path}: not an unencrypted PEM private key ({error}); point the key setting "
                "at the device key this terminal was provisioned with"
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != CURVE.name:
            raise KeyFileError(f"{path}: the device key must be EC P-256")
        return cls(key)

    def csr(self, serial: str, device_id: str | None = None) -> bytes:
        """A PEM certificate signing request carrying the device serial (and id, once known)."""
        names = [x509.NameAttribute(NameOID.SERIAL_NUMBER, serial)]
        if device_id:
            names.append(x509.NameAttribute(NameOID.COMMON_NAME, device_id))
        request = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name(names))
            .sign(self.private_key, hashes.SHA256())
        )
        return request.public_bytes(serialization.Encoding.PEM)

    @cached_property
    def _jws_head(self) -> str:
        return self._head({})

    def _head(self, extra_headers: Mapping[str, str]) -> str:
        header = {"alg": "ES256", "kid": self.kid, **extra_headers}
        return b64url(json.dumps(header, separators=(",", ":"), sort_keys=True).encode())

    def jws(self, payload: bytes, extra_headers: Mapping[str, str] | None = None) -> str:
        """Compact JWS (RFC 7515) with alg ES256 and this key's kid."""
        head = self._head(extra_headers) if extra_headers else self._jws_head
        signing_input = f"{head}.{b64url(payload)}".encode("ascii")
        return f"{signing_input.decode()}.{b64url(self.sign(signing_input))}"


def jws_verify(token: str, keys: Mapping[str, ec.EllipticCurvePublicKey]) -> tuple[dict, bytes]:
    """Verifies a compact ES256 JWS against keys by kid; returns (header, payload)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise JwsError("a compact JWS has three dot-separated parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = b64url_decode(parts[1])
        signature = b64url_decode(parts[2])
    except ValueError as error:
        raise JwsError(f"malformed JWS: {error}") from None
    if not isinstance(header, dict) or header.get("alg") != "ES256":
        raise JwsError(
            f"alg must be ES256, got {header.get('alg') if isinstance(header, dict) else header!r}"
        )
    kid = header.get("kid", "")
    if not isinstance(kid, str):
        raise JwsError(f"kid must be text, got {type(kid).__name__}")
    key = keys.get(kid)
    if key is None:
        raise JwsError(f"unknown key id {kid!r}")
    if not verify_raw(key, f"{parts[0]}.{parts[1]}".encode("ascii"), signature):
        raise JwsError("signature does not verify")
    return header, payload


def public_key_from_jwk(jwk: Mapping[str, str]) -> ec.EllipticCurvePublicKey:
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise JwsError(f"only EC P-256 keys are used, got {jwk.get('kty')}/{jwk.get('crv')}")
    try:
        x = int.from_bytes(b64url_decode(jwk["x"]), "big")
        y = int.from_bytes(b64url_decode(jwk["y"]), "big")
        return ec.EllipticCurvePublicNumbers(x, y, CURVE).public_key()
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise JwsError(f"malformed JWK: {error!r}") from None


def load_jwks(document: Mapping) -> dict[str, ec.EllipticCurvePublicKey]:
    """Platform keys by kid from a JWKS document ({"keys": [...]})."""
    keys = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(keys, list) or not keys:
        raise JwsError("a JWKS document needs a non-empty 'keys' list")
    result = {}
    for jwk in keys:
        if not isinstance(jwk, Mapping) or not isinstance(jwk.get("kid"), str):
            raise JwsError("every JWKS key needs a 'kid'")
        result[jwk["kid"]] = public_key_from_jwk(jwk)
    return result


def jwks_document(keys: Mapping[str, ec.EllipticCurvePublicKey]) -> dict:
    return {
        "keys": [
            {**public_jwk(key), "kid": kid, "alg": "ES256", "use": "sig"}
            for kid, key in keys.items()
        ]
    }


class PlatformKeys:
    """Verifies platform-signed codes (tokens, receipts) against keys from a JWKS document."""

    def __init__(self, keys: Mapping[str, ec.EllipticCurvePublicKey]):
        from terminal.core.sealed import key_tag

        self._by_kid = dict(keys)
        self._by_tag = {key_tag(kid): key for kid, key in keys.items()}

    def check_tagged(self, tag: bytes, message: bytes, signature: bytes) -> bool:
        """The SignatureCheck the core's sealed codes take; LookupError for an unknown tag."""
        return verify_raw(self._by_tag[tag], message, signature)


class BoundDeviceKeys:
    """Device keys the platform bound to a (merchant id, terminal id) pair: the key resolver a
    customer's app uses for sale QRs. A key bound to another shop or terminal is unknown here."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str], dict[str, ec.EllipticCurvePublicKey]] = {}

    def bind(self, merchant_id: str, terminal_id: str, public_key: ec.EllipticCurvePublicKey):
        self._keys.setdefault((merchant_id, terminal_id), {})[key_id(public_key)] = public_key

    def check_sale(
        self, merchant_id: str, terminal_id: str, kid: str, message: bytes, signature: bytes
    ) -> bool:
        """The SaleSignatureCheck of terminal.core.sale_qr; LookupError if not bound so."""
        key = self._keys.get((merchant_id, terminal_id), {}).get(kid)
        if key is None:
            raise LookupError(f"no key {kid!r} is bound to merchant {merchant_id}/{terminal_id}")
        return verify_raw(key, message, signature)


def _write_private_temporary(path: Path, data: bytes) -> str:
    """`data` in a new 0600 file with an unpredictable name beside `path`, synced to disk."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkstemp opens with O_EXCL under a random name: nobody can plant a link there in advance.
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(descriptor, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        os.fsync(descriptor)
    except BaseException:
        os.close(descriptor)
        os.unlink(temporary)
        raise
    os.close(descriptor)
    return temporary


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _read_private_file(path: Path) -> bytes:
    """Opens once (no symbolic link), checks the opened file itself, then reads it."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise KeyFileError(
            f"{path}: no device key there; provision the device, or give the key file's path"
        ) from None
    except PermissionError:
        raise KeyFileError(
            f"{path}: cannot open the device key (permission denied); run as the user the "
            "terminal runs as"
        ) from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise KeyFileError(
                f"{path}: is a symbolic link; a device key must be a regular file: give the "
                "path of the key file itself"
            ) from None
        raise KeyFileError(f"{path}: cannot open the device key ({error.strerror})") from None
    try:
        info = os.fstat(descriptor)
        _check_private_file(path, info)
        data = os.read(descriptor, MAX_KEY_FILE_BYTES + 1)
    except OSError as error:
        raise KeyFileError(f"{path}: cannot read the device key ({error.strerror})") from None
    finally:
        os.close(descriptor)
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"{path}: over {MAX_KEY_FILE_BYTES} bytes: not a device key file")
    return data


def _check_private_file(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(
            f"{path}: is {_file_kind(info.st_mode)}, not a key file; give the path of the "
            "device key's PEM file"
        )
    if info.st_uid != os.geteuid():
        raise KeyFileError(
            f"{path}: owned by uid {info.st_uid}, not by this user (uid {os.geteuid()}); a "
            "device key must belong to the user the terminal runs as: run the terminal as "
            "that user, or chown the key to it"
        )
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path}: mode {stat.S_IMODE(info.st_mode):04o} lets group or others use the "
            f"device key; run: chmod 600 {path} (and treat the key as exposed if others "
            "could log in)"
        )


def _file_kind(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")
