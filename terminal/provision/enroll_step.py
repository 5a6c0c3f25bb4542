"""Provisioning steps 2 and 3: the device key (kept, or made here) and the enrollment with a
one-time code, which installs the identity the platform issued (identity.py)."""

from __future__ import annotations

import os
import re
from functools import partial
from typing import TYPE_CHECKING

from terminal.provision import identity
from terminal.provision.system import ProvisionError, device_serial

if TYPE_CHECKING:
    from terminal.provision.steps import Run

CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")


def normalise_code(code: str) -> str:
    return code.strip().upper().replace(" ", "")


def step_key(run: Run, state: dict) -> str:
    files = run.files
    if run.options.rekey:
        # The old key and ledger are moved aside only once the new key is enrolled (step 3).
        key = identity.DeviceKey.generate()
        state["key"], state["key_is_new"], state["retire"] = key, True, True
        return f"새 키 생성 / new key made (--rekey): {key.kid}; the old one goes after enrollment"
    if files.key.exists():
        key = identity.load_key(files.key)
        state["key"], state["key_is_new"] = key, False
        return f"유지 / kept: {key.kid} (never replaced without --rekey)"
    key = identity.DeviceKey.generate()
    state["key"], state["key_is_new"] = key, True
    return f"새 키 생성 / new key made on this device: {key.kid} (saved with the certificate)"


def step_enroll(run: Run, state: dict) -> str:
    options, files = run.options, run.files
    present = identity.current_identity(files)
    url = options.platform or (present.platform if present else None)
    wanted = options.reenroll or options.rekey or state["key_is_new"] or present is None
    if present is not None and options.platform and options.platform != present.platform:
        wanted = True
    state["url"] = url
    if not wanted:
        state["identity"] = present
        return (
            f"변경 없음 / unchanged: enrolled as {present.device_id} at {present.platform}, "
            f"certificate until {present.not_after:%Y-%m-%d}"
        )
    if not url:
        raise ProvisionError(
            "no platform URL",
            "run again with --platform https://…",
            code=2,
            ko="플랫폼 주소가 없습니다",
            next_ko="--platform https://… 를 붙여 다시 실행하세요",
        )
    ca = options.platform_ca or (files.platform_ca if files.platform_ca.exists() else None)
    if ca is None:
        raise ProvisionError(
            "no platform CA certificate",
            "run again with --platform-ca FILE",
            code=2,
            ko="플랫폼 CA 인증서가 없습니다",
            next_ko="--platform-ca 파일을 붙여 다시 실행하세요",
        )
    code = options.code
    if code is None and options.prompt is not None:
        code = options.prompt("일회용 등록 코드 / one-time enrollment code: ")
    if not code:
        raise ProvisionError(
            "an enrollment code is needed",
            "run again with --code PPPP-SSSS-SSSS",
            code=2,
            ko="등록 코드가 필요합니다",
            next_ko="--code PPPP-SSSS-SSSS 를 붙여 다시 실행하세요",
        )
    code = normalise_code(code)
    if not CODE.match(code):
        raise ProvisionError(
            f"{code!r} is not an enrollment code (PPPP-SSSS-SSSS)",
            "check the code on the platform screen and run again",
            code=2,
            ko=f"{code!r}는 등록 코드 형식(PPPP-SSSS-SSSS)이 아닙니다",
            next_ko="플랫폼 화면의 코드를 확인하고 다시 실행하세요",
        )
    serial = options.serial or device_serial()
    enrollment = identity.enroll(url, ca, code, state["key"], serial)
    staging = files.state_dir.parent / f".qr-terminal-staging-{os.getpid()}"
    files.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # --rekey: the old identity goes aside only once the new one is staged (write_identity).
    retire = partial(identity.retire, files, options.now_ms) if state.get("retire") else None
    folder = identity.write_identity(
        files, staging, state["key"], state["key_is_new"], enrollment, url, options.now_ms, retire
    )
    if folder is not None:
        run.changed(f"old key, certificate and ledger moved to {folder}")
    state["enrollment"], state["serial"] = enrollment, serial
    state["identity"] = identity.current_identity(files)
    run.changed(f"enrolled as {enrollment.device_id}")
    return f"등록 완료 / enrolled: device {enrollment.device_id}, merchant " + str(
        enrollment.merchant.get("name_ko", enrollment.merchant.get("id", "?"))
    )
