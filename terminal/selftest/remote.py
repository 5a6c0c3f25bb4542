"""The platform, as the terminal sees it: reachable over mutual TLS, and its signed time,
checked by sync's own rules (trusted_time: signature, our device id, our nonce, the same
tolerance) and compared with the local clock, so the selftest and the app agree."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from terminal.selftest.report import FAIL, OK, WARN, Result
from terminal.signing import JwsError, load_jwks
from terminal.sync.errors import UntrustedAnswer
from terminal.sync.trusted_time import TOLERANCE_MS, new_nonce, verify_signed_time


@dataclass(frozen=True)
class MeasuredTime:
    """The platform's verified time as the selftest measured it against the local clock."""

    time_ms: int
    skew_ms: int  # platform − local, at the middle of the round trip
    rtt_ms: int


def platform(
    url: str,
    ca: Path,
    cert: Path,
    key: Path,
    keys_file: Path,
    device_id: str,
    wall_ms: Callable[[], int],
    timeout: float = 10.0,
) -> tuple[Result, MeasuredTime | None]:
    """Calls GET /v1/time over mTLS and verifies the answer."""
    from terminal.sync.client import PlatformClient
    from terminal.sync.errors import SyncError
    from terminal.sync.transport import Timeouts, TlsFiles

    title = ("플랫폼 연결", "platform")
    if not url.startswith("https://"):
        return Result(
            "platform",
            *title,
            FAIL,
            "https 주소가 아님",
            f"{url} is not an https:// URL",
            fix_ko="기기를 다시 등록하세요: sudo scripts/provision --reenroll --platform URL",
            fix_en="re-enroll: sudo scripts/provision --reenroll --platform URL",
        ), None
    nonce = new_nonce()
    client = PlatformClient.connect(url, TlsFiles(ca=ca, cert=cert, key=key), Timeouts(5, timeout))
    try:
        before_ms, started = wall_ms(), time.monotonic()
        answer = client.signed_time(nonce)
        rtt_ms = int((time.monotonic() - started) * 1000)
        keys = _platform_keys(keys_file, client)
        time_ms = _verified_time(answer, nonce, device_id, keys, client)
    except UntrustedAnswer as error:
        return Result(
            "platform",
            *title,
            FAIL,
            "플랫폼 시간 서명이 맞지 않음",
            str(error),
            fix_ko="지원팀에 연락하세요",
            fix_en="call support: the platform's answer is not trusted",
            facts={"url": url},
        ), None
    except (SyncError, OSError, ValueError) as error:
        return Result(
            "platform",
            *title,
            FAIL,
            "연결 실패",
            f"{url}: {error}",
            fix_ko="네트워크, 플랫폼 주소, 인증서를 확인하세요 (sudo scripts/collect-diagnostics)",
            fix_en="check the network, the platform URL and the certificate",
            facts={"url": url},
        ), None
    finally:
        client.close()
    measured = MeasuredTime(
        time_ms=time_ms,
        skew_ms=time_ms - (before_ms + rtt_ms // 2),
        rtt_ms=rtt_ms,
    )
    return Result(
        "platform",
        *title,
        OK,
        f"mTLS 연결됨, 응답 {rtt_ms} ms",
        f"reached over mTLS in {rtt_ms} ms; signed time verified",
        facts={"url": url, "rtt_ms": rtt_ms, "platform_time_ms": measured.time_ms},
    ), measured


def _platform_keys(keys_file: Path, client) -> dict:
    try:
        return load_jwks(json.loads(keys_file.read_text(encoding="utf-8")))
    except (OSError, ValueError, JwsError):
        return load_jwks(client.keys())


def _verified_time(answer: dict, nonce: str, device_id: str, keys: dict, client) -> int:
    """verify_signed_time, once more with freshly fetched keys when the platform rotated its
    keys since provisioning (as the sync worker does)."""
    try:
        return verify_signed_time(answer, nonce=nonce, device_id=device_id, keys=keys)
    except JwsError as error:
        if "unknown key id" not in str(error):
            raise UntrustedAnswer(f"signed time: {error}") from None
    try:
        fresh = load_jwks(client.keys())
        return verify_signed_time(answer, nonce=nonce, device_id=device_id, keys=fresh)
    except JwsError as again:
        raise UntrustedAnswer(f"signed time: {again}") from None


def clock(synchronised: bool | None, measured: MeasuredTime | None) -> Result:
    """Trusted when the platform's signed time agrees; else NTP's word is all there is."""
    title = ("시계", "clock")
    ntp = {True: "NTP 동기화됨", False: "NTP 미동기화", None: "NTP 상태 모름"}[synchronised]
    ntp_en = {True: "NTP synchronised", False: "NTP not synchronised", None: "NTP state unknown"}[
        synchronised
    ]
    facts = {"ntp_synchronised": synchronised}
    if measured is not None:
        skew, limit = measured.skew_ms, TOLERANCE_MS + measured.rtt_ms
        facts.update(skew_ms=skew, limit_ms=limit)
        if abs(skew) > limit:
            return Result(
                "clock",
                *title,
                FAIL,
                f"{ntp}, 플랫폼과 {skew / 1000:+.1f}초 차이",
                f"{ntp_en}; {skew / 1000:+.1f} s off platform time (limit ±{limit / 1000:.1f} s)",
                fix_ko="NTP를 확인하세요: timedatectl status; 오프라인 결제는 꺼진 상태로 둡니다",
                fix_en="check NTP: timedatectl status; offline acceptance stays off until then",
                facts=facts,
            )
        return Result(
            "clock",
            *title,
            OK,
            f"{ntp}, 플랫폼과 {skew / 1000:+.1f}초 차이",
            f"{ntp_en}; {skew / 1000:+.1f} s from platform time",
            facts=facts,
        )
    if synchronised:
        return Result(
            "clock",
            *title,
            OK,
            f"{ntp} (플랫폼 시간 확인 못함)",
            f"{ntp_en} (platform time not available)",
            facts=facts,
        )
    return Result(
        "clock",
        *title,
        WARN if synchronised is None else FAIL,
        f"{ntp}, 플랫폼 시간도 확인 못함",
        f"{ntp_en} and no platform time to compare",
        fix_ko="네트워크와 NTP를 확인하세요: timedatectl status",
        fix_en="check the network and NTP: timedatectl status",
        facts=facts,
    )
