"""The checks that need no network: configuration, device key and certificate, free disk, the
database's integrity and the outbox's health."""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

from cryptography import x509

from terminal.ledger.certs import find_issuer, load_certificates
from terminal.ledger.health import DatabaseUnreadable, LedgerHealth, check_database
from terminal.selftest.report import FAIL, OK, WARN, Result
from terminal.signing import DeviceKey, KeyFileError

CERT_WARN_DAYS = 30  # the renewal timer renews inside this window; later than this is a problem
DISK_FAIL_BYTES = 50 * 1024 * 1024  # below this SQLite may fail to grow the WAL mid-sale
DISK_WARN_BYTES = 200 * 1024 * 1024
OUTBOX_WARN_MS = 60 * 60 * 1000  # a record unsent for an hour means the uplink is down
DAY_MS = 24 * 60 * 60 * 1000


def configuration(problems: list[str] | None, source: str) -> Result:
    if problems:
        return Result(
            "config",
            "설정",
            "configuration",
            FAIL,
            f"문제 {len(problems)}개: {problems[0]}",
            f"{len(problems)} problem(s): {problems[0]}",
            fix_ko=f"{source} 파일을 고친 뒤 `qr-terminal config check {source}`로 확인하세요",
            fix_en=f"fix {source}, then run `qr-terminal config check {source}`",
            facts={"problems": problems, "source": source},
        )
    return Result("config", "설정", "configuration", OK, "유효", "valid", facts={"source": source})


def key_matches_certificate(key_path: Path, cert_path: Path) -> Result:
    title = ("기기 키", "device key")
    fix_ko = "기기를 다시 등록하세요: sudo scripts/provision --reenroll (키는 유지)"
    fix_en = "re-enroll the device: sudo scripts/provision --reenroll (keeps the key)"
    try:
        key = DeviceKey.load(key_path)
    except KeyFileError as error:
        return Result(
            "key",
            *title,
            FAIL,
            "키를 읽을 수 없음",
            f"unusable: {error}",
            fix_ko="기기를 프로비저닝하세요: sudo scripts/provision",
            fix_en="provision the device: sudo scripts/provision",
        )
    try:
        certificate = load_certificates(cert_path, "device")[0]
    except (OSError, ValueError) as error:
        return Result(
            "key",
            *title,
            FAIL,
            "인증서를 읽을 수 없음",
            f"no readable certificate: {error}",
            fix_ko=fix_ko,
            fix_en=fix_en,
        )
    if certificate.public_key().public_numbers() != key.public_key.public_numbers():
        return Result(
            "key",
            *title,
            FAIL,
            "키와 인증서가 맞지 않음",
            f"key {key.kid} does not match the certificate in {cert_path}",
            fix_ko=fix_ko,
            fix_en=fix_en,
            facts={"kid": key.kid},
        )
    return Result(
        "key",
        *title,
        OK,
        f"인증서와 일치 ({key.kid})",
        f"matches the certificate ({key.kid})",
        facts={"kid": key.kid},
    )


def certificate_validity(cert_path: Path, ca_path: Path, now_ms: int) -> Result:
    title = ("인증서", "certificate")
    renew_ko = "인증서를 갱신하세요: sudo -u qr-terminal qr-terminal maintain renew-cert"
    renew_en = "renew it: sudo -u qr-terminal qr-terminal maintain renew-cert"
    try:
        certificate = load_certificates(cert_path, "device")[0]
    except (OSError, ValueError) as error:
        return Result(
            "certificate",
            *title,
            FAIL,
            "읽을 수 없음",
            f"unreadable: {error}",
            fix_ko="기기를 다시 등록하세요: sudo scripts/provision --reenroll",
            fix_en="re-enroll: sudo scripts/provision --reenroll",
        )
    now = datetime.datetime.fromtimestamp(now_ms / 1000, datetime.UTC)
    after = certificate.not_valid_after_utc
    days_left = (after - now).total_seconds() / 86400
    facts = {
        "subject": certificate.subject.rfc4514_string(),
        "not_before": certificate.not_valid_before_utc.isoformat(),
        "not_after": after.isoformat(),
        "days_left": int(days_left),
    }
    chained = _issued_by_platform(certificate, ca_path)
    if chained is not None:
        return Result(
            "certificate",
            *title,
            FAIL,
            "플랫폼 CA가 발급하지 않음",
            chained,
            fix_ko="기기를 다시 등록하세요: sudo scripts/provision --reenroll",
            fix_en="re-enroll: sudo scripts/provision --reenroll",
            facts=facts,
        )
    if now < certificate.not_valid_before_utc:
        return Result(
            "certificate",
            *title,
            FAIL,
            "아직 유효하지 않음 (시계 확인)",
            f"not valid before {facts['not_before']} (is the clock right?)",
            fix_ko="시계를 확인하세요: timedatectl",
            fix_en="check the clock: timedatectl",
            facts=facts,
        )
    if days_left < 0:
        return Result(
            "certificate",
            *title,
            FAIL,
            f"만료됨 ({after:%Y-%m-%d})",
            f"expired on {after:%Y-%m-%d}",
            fix_ko="기기를 다시 등록하세요: sudo scripts/provision --reenroll",
            fix_en="an expired certificate cannot renew itself; re-enroll: "
            "sudo scripts/provision --reenroll",
            facts=facts,
        )
    status = WARN if days_left < CERT_WARN_DAYS else OK
    return Result(
        "certificate",
        *title,
        status,
        f"유효, {int(days_left)}일 남음",
        f"valid, {int(days_left)} days left (until {after:%Y-%m-%d})",
        fix_ko=renew_ko if status == WARN else "",
        fix_en=renew_en if status == WARN else "",
        facts=facts,
    )


def _issued_by_platform(certificate: x509.Certificate, ca_path: Path) -> str | None:
    try:
        anchors = load_certificates(ca_path, "platform CA")
    except (OSError, ValueError) as error:
        return f"no platform CA to check against ({error})"
    authority, _ = find_issuer(certificate, anchors)
    return None if authority is not None else f"not issued by the platform CA in {ca_path}"


def free_disk(state_dir: Path) -> Result:
    title = ("저장 공간", "free disk")
    where = state_dir
    while not where.exists() and where != where.parent:
        where = where.parent
    usage = shutil.disk_usage(where)
    megabytes = usage.free // (1024 * 1024)
    facts = {"path": str(where), "free_bytes": usage.free, "total_bytes": usage.total}
    if usage.free < DISK_FAIL_BYTES:
        status = FAIL
    elif usage.free < DISK_WARN_BYTES:
        status = WARN
    else:
        status = OK
    return Result(
        "disk",
        *title,
        status,
        f"{megabytes} MB 남음",
        f"{megabytes} MB free on {where}",
        fix_ko="" if status == OK else "오래된 로그를 지우세요: sudo journalctl --vacuum-size=50M",
        fix_en="" if status == OK else "free space: sudo journalctl --vacuum-size=50M",
        facts=facts,
    )


def database(path: Path) -> tuple[Result, LedgerHealth | None]:
    title = ("거래 DB", "database")
    if not path.exists():
        return Result(
            "database",
            *title,
            WARN,
            "아직 없음 (첫 실행 때 생성)",
            f"{path} not created yet (the terminal creates it at its first start)",
            fix_ko="서비스를 시작하세요: sudo systemctl start qr-terminal",
            fix_en="start the service: sudo systemctl start qr-terminal",
        ), None
    try:
        health = check_database(path)
    except DatabaseUnreadable as error:
        return Result(
            "database",
            *title,
            FAIL,
            "읽을 수 없음",
            str(error),
            fix_ko="진단 파일을 만들어 지원팀에 보내세요: sudo scripts/collect-diagnostics",
            fix_en="send a diagnostics archive to support: sudo scripts/collect-diagnostics",
        ), None
    if not health.intact:
        return Result(
            "database",
            *title,
            FAIL,
            f"손상됨: {health.quick_check}",
            f"damaged: {health.quick_check}",
            fix_ko="전원을 끄지 말고 지원팀에 연락하세요 (sudo scripts/collect-diagnostics)",
            fix_en="do not power off; call support with sudo scripts/collect-diagnostics",
        ), health
    return Result(
        "database",
        *title,
        OK,
        f"정상, 마지막 번호 {health.last_seq}",
        f"quick_check ok, last seq {health.last_seq}",
        facts={
            "last_seq": health.last_seq,
            "by_kind": health.by_kind,
            "schema_version": health.schema_version,
        },
    ), health


def outbox(health: LedgerHealth, now_ms: int, max_age_hours: int) -> Result:
    title = ("미전송 거래", "outbox")
    age_ms = None if health.oldest_pending_ms is None else max(0, now_ms - health.oldest_pending_ms)
    facts = {
        "pending": health.pending,
        "oldest_pending_age_s": None if age_ms is None else age_ms // 1000,
        "parked": health.parked,
        "parked_reasons": health.parked_reasons,
        "by_state": health.by_state,
    }
    minutes = None if age_ms is None else age_ms // 60000
    if health.parked:
        reasons = ", ".join(f"{r} ×{n}" for r, n in health.parked_reasons.items())
        return Result(
            "outbox",
            *title,
            FAIL,
            f"플랫폼이 거절한 거래 {health.parked}건",
            f"{health.parked} record(s) refused by the platform ({reasons})",
            fix_ko="진단 파일을 만들어 지원팀에 보내세요: sudo scripts/collect-diagnostics",
            fix_en="send a diagnostics archive to support: sudo scripts/collect-diagnostics",
            facts=facts,
        )
    if age_ms is not None and age_ms > max_age_hours * 3600 * 1000:
        return Result(
            "outbox",
            *title,
            FAIL,
            f"{health.pending}건이 {minutes}분째 미전송",
            f"{health.pending} record(s) unsent, the oldest for {minutes} min "
            f"(limit {max_age_hours} h)",
            fix_ko="네트워크와 플랫폼 연결을 확인하세요",
            fix_en="check the network and platform",
            facts=facts,
        )
    if age_ms is not None and age_ms > OUTBOX_WARN_MS:
        return Result(
            "outbox",
            *title,
            WARN,
            f"{health.pending}건이 {minutes}분째 미전송",
            f"{health.pending} record(s) unsent, the oldest for {minutes} min",
            fix_ko="네트워크를 확인하세요",
            fix_en="check the network",
            facts=facts,
        )
    return Result(
        "outbox",
        *title,
        OK,
        f"대기 {health.pending}건",
        f"{health.pending} pending",
        facts=facts,
    )
