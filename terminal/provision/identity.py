"""The device's identity on disk: its key (made here, never copied in, never printed), the
certificate the platform issued for it at enrollment, the platform's CA and keys, and a note of
the enrollment. Written to a staging folder first and moved into the state directory in an
order that never leaves a certificate without its key, nor the device without any key."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from terminal.provision.files import fsync_directory, write_new
from terminal.provision.layout import StateFiles
from terminal.provision.system import ProvisionError
from terminal.signing import DeviceKey, KeyFileError


@dataclass(frozen=True)
class Identity:
    device_id: str
    kid: str
    platform: str
    not_after: datetime.datetime
    merchant: str


@contextlib.contextmanager
def as_owner(path: Path) -> Iterator[None]:
    """Root acts as the owner of `path` for the block: the device key opens only for the user
    it belongs to (the terminal's), and provisioning runs again as root."""
    try:
        info = path.stat()
    except OSError:
        info = None
    if os.geteuid() != 0 or info is None or info.st_uid == 0:
        yield
        return
    os.setegid(info.st_gid)
    os.seteuid(info.st_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def load_key(path: Path) -> DeviceKey:
    with as_owner(path):
        return DeviceKey.load(path)


def current_identity(files: StateFiles) -> Identity | None:
    """The enrollment in place, if complete: its note, a key, and a certificate for that key."""
    try:
        note = json.loads(files.enrollment.read_text(encoding="utf-8"))
        certificate = x509.load_pem_x509_certificates(files.cert.read_bytes())[0]
        key = load_key(files.key)
    except (OSError, ValueError, KeyFileError):
        return None
    if certificate.public_key().public_numbers() != key.public_key.public_numbers():
        return None
    return Identity(
        device_id=note.get("device_id", "?"),
        kid=key.kid,
        platform=note.get("platform", ""),
        not_after=certificate.not_valid_after_utc,
        merchant=note.get("merchant", ""),
    )


def enroll(url: str, ca_file: Path, code: str, key: DeviceKey, serial: str):
    """POST /v1/enrollments with the code and a CSR from `key`; the platform's refusal (used,
    expired, mistyped or locked code) becomes a ProvisionError carrying its reason."""
    from terminal.sync.client import enroll as call
    from terminal.sync.errors import PlatformUnreachable, SyncError
    from terminal.sync.transport import Timeouts

    try:
        return call(url, ca_file, code, key.csr(serial), Timeouts(connect=10, read=30))
    except PlatformUnreachable as error:
        raise ProvisionError(
            f"cannot reach the platform at {url}: {error}",
            "check the network cable/Wi-Fi, the --platform URL and the --platform-ca file, "
            "then run again with the same code (it is still unused)",
            f"플랫폼({url})에 연결할 수 없습니다",
            "네트워크, --platform 주소, --platform-ca 파일을 확인하고 같은 코드로 다시 실행하세요",
        ) from None
    except SyncError as error:
        reason = str(error.problem) if error.problem else str(error)
        name = error.problem.name if error.problem else ""
        raise ProvisionError(
            f"the platform refused the enrollment: {reason}",
            _next_for(name),
            f"플랫폼이 등록을 거부했습니다: {reason}",
            _next_for_ko(name),
            code=2,  # a bad code is bad input: nothing was changed
        ) from None


def _next_for(name: str) -> str:
    return {
        "code_used": "this code was used already: ask the platform for a new code",
        "code_expired": "codes expire after 10 minutes: ask the platform for a new code",
        "code_invalid": "check the code for typos (PPPP-SSSS-SSSS) and run again",
        "code_locked": "too many wrong tries locked this code: ask for a new code",
        "too_many_attempts": "wait the time the platform named, then run again",
    }.get(name, "ask the platform operator; run again with a new code")


def _next_for_ko(name: str) -> str:
    return {
        "code_used": "이미 사용된 코드입니다: 플랫폼에서 새 코드를 받으세요",
        "code_expired": "코드는 10분 후 만료됩니다: 새 코드를 받으세요",
        "code_invalid": "코드(PPPP-SSSS-SSSS)를 다시 확인하고 실행하세요",
        "code_locked": "잘못된 입력이 많아 잠긴 코드입니다: 새 코드를 받으세요",
        "too_many_attempts": "플랫폼이 알려준 시간만큼 기다린 뒤 다시 실행하세요",
    }.get(name, "플랫폼 운영자에게 문의하고 새 코드로 다시 실행하세요")


def write_identity(
    files: StateFiles,
    staging: Path,
    key: DeviceKey,
    key_is_new: bool,
    enrollment,
    platform_url: str,
    enrolled_ms: int,
    retire: Callable[[], Path] | None = None,
) -> Path | None:
    """Stages every file, then moves them into the state directory: key first (never lose
    the key a certificate was issued for), the enrollment note last (it marks completeness).
    `retire` (--rekey) moves the old identity aside only once everything new is staged; its
    folder is returned. Nothing fails between staging and moving but a rename: if one does,
    the staging folder is kept (the new key may live only there) and the error names it."""
    staging.mkdir(mode=0o700, parents=True, exist_ok=True)
    retired = None
    try:
        moves = _stage(files, staging, key, key_is_new, enrollment, platform_url, enrolled_ms)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise ProvisionError(
            f"could not write the new identity: {error}; nothing was changed",
            "free space on the SD card (df -h), then run again with a new code",
            f"새 기기 정보를 기록하지 못했습니다: {error}; 바뀐 것은 없습니다",
            "SD 카드 공간을 확보한 뒤(df -h) 새 코드로 다시 실행하세요",
        ) from None
    except BaseException:
        # Nothing was moved in yet: the old identity is whole, the next run starts clean.
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        files.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if retire is not None:
            retired = retire()
        if files.enrollment.exists():
            files.enrollment.unlink()  # incomplete until the new note lands
        for staged, target in moves:
            os.replace(staged, target)
        fsync_directory(files.state_dir)
    except OSError as error:
        raise ProvisionError(
            f"moving the new identity into {files.state_dir} failed: {error}; what did not "
            f"move is kept in {staging}" + (f", the old identity in {retired}" if retired else ""),
            f"do not delete {staging}; call support with: sudo scripts/collect-diagnostics",
            f"새 기기 정보를 옮기지 못했습니다: {error}; 남은 파일은 {staging}에 있습니다",
            f"{staging}를 지우지 말고 지원팀에 연락하세요 (sudo scripts/collect-diagnostics)",
        ) from None
    shutil.rmtree(staging, ignore_errors=True)
    return retired


def _stage(
    files: StateFiles,
    staging: Path,
    key: DeviceKey,
    key_is_new: bool,
    enrollment,
    platform_url: str,
    enrolled_ms: int,
) -> list[tuple[Path, Path]]:
    """Writes every new file into `staging`; returns (staged, target) in the order to move."""
    moves: list[tuple[Path, Path]] = []
    if key_is_new:
        key.save(staging / files.key.name)
        moves.append((staging / files.key.name, files.key))
    certificate = x509.load_pem_x509_certificate(enrollment.certificate.encode())
    if certificate.public_key().public_numbers() != key.public_key.public_numbers():
        raise ProvisionError(
            "the platform's certificate is not for this device's key",
            "call platform support; nothing was installed",
            "플랫폼이 보낸 인증서가 이 기기의 키와 맞지 않습니다",
            "플랫폼 지원팀에 연락하세요; 아무것도 설치되지 않았습니다",
        )
    note = {
        "device_id": enrollment.device_id,
        "platform": platform_url,
        "merchant": str(enrollment.merchant.get("id", "")),
        "enrolled_ms": enrolled_ms,
        "kid": key.kid,
        "not_after": certificate.not_valid_after_utc.isoformat(),
    }
    texts = {
        files.cert: enrollment.certificate,
        files.platform_ca: "".join(enrollment.ca_chain),
        files.platform_keys: json.dumps(enrollment.jwks, indent=2) + "\n",
        files.enrollment: json.dumps(note, indent=2) + "\n",
    }
    for target, text in texts.items():
        staged = staging / target.name
        write_new(staged, text.encode())
        moves.append((staged, target))
    return moves


def retire(files: StateFiles, now_ms: int) -> Path:
    """--rekey: moves the old key, certificate, enrollment and ledger aside (never deleted):
    a journal signed by the old key cannot go on under a new one."""
    stamp = datetime.datetime.fromtimestamp(now_ms / 1000, datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = files.state_dir / f"retired-{stamp}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=False)
    database = files.database
    candidates = [files.enrollment, files.key, files.cert]
    companions = ("-wal", "-shm", ".started")  # .started: see terminal/ledger/schema.py
    candidates += [database, *(database.with_name(database.name + s) for s in companions)]
    for path in candidates:
        if path.exists():
            os.replace(path, folder / path.name)
    return folder
