"""Each device backend's own check() (display, input, feedback, printer, camera), as the
hardware factory builds them from the configuration, turned into selftest results."""

from __future__ import annotations

from collections.abc import Iterable

from terminal.hw.device import DeviceCheck
from terminal.selftest.report import FAIL, OK, Result

_TITLES = {
    "display": "화면",
    "input": "키패드/터치",
    "feedback": "부저/LED",
    "printer": "영수증 프린터",
    "camera": "카메라",
}


def device_results(checks: Iterable[DeviceCheck]) -> list[Result]:
    results = []
    for check in checks:
        facts = dict(check.found)
        described = ", ".join(f"{k} {v}" for k, v in facts.items())
        where = f"{check.backend} {check.device}".strip()
        if check.ok:
            results.append(
                Result(
                    f"device:{check.kind}",
                    _TITLES.get(check.kind, check.kind),
                    check.kind,
                    OK,
                    f"{where} 정상" + (f" ({described})" if described else ""),
                    f"{where} ok" + (f" ({described})" if described else ""),
                    facts={"backend": check.backend, "device": check.device, **facts},
                )
            )
        else:
            results.append(
                Result(
                    f"device:{check.kind}",
                    _TITLES.get(check.kind, check.kind),
                    check.kind,
                    FAIL,
                    f"{where} 사용 불가",
                    f"{where}: {check.problem}",
                    fix_ko="연결과 설정을 확인하세요 (아래 영문 메시지 참고)",
                    fix_en=check.problem or "",
                    facts={"backend": check.backend, "device": check.device, **facts},
                )
            )
    return results
