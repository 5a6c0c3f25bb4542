"""One check's result, and the whole report as bilingual text or JSON with its exit code."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
_MARK = {OK: "[ OK ]", WARN: "[WARN]", FAIL: "[FAIL]", SKIP: "[SKIP]"}


@dataclass(frozen=True)
class Result:
    """What one check found. `ko`/`en` say it; `fix_ko`/`fix_en` say what to do (failures and
    warnings); `facts` are the numbers behind it, for tools and diagnostics."""

    check: str
    title_ko: str
    title_en: str
    status: str
    ko: str
    en: str
    fix_ko: str = ""
    fix_en: str = ""
    facts: Mapping[str, Any] = field(default_factory=dict)


def passed(results: Sequence[Result]) -> bool:
    """Warnings and skipped checks do not fail the terminal; any failure does."""
    return all(result.status != FAIL for result in results)


def exit_code(results: Sequence[Result]) -> int:
    return 0 if passed(results) else 1


def to_json(results: Sequence[Result], extra: Mapping[str, Any] | None = None) -> str:
    document = {
        "passed": passed(results),
        "counts": {s: sum(r.status == s for r in results) for s in (OK, WARN, FAIL, SKIP)},
        "checks": [asdict(result) for result in results],
        **(extra or {}),
    }
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False, default=str)


def to_text(results: Sequence[Result]) -> str:
    """Korean first, English beside it; what to do under each failure or warning."""
    lines = []
    for result in results:
        lines.append(
            f"{_MARK[result.status]} {result.title_ko} / {result.title_en}: "
            f"{result.ko} / {result.en}"
        )
        if result.status in (FAIL, WARN) and (result.fix_ko or result.fix_en):
            lines.append(f"       → 조치: {result.fix_ko}")
            lines.append(f"       → fix: {result.fix_en}")
    failures = sum(r.status == FAIL for r in results)
    warnings = sum(r.status == WARN for r in results)
    if failures:
        lines.append(f"자가 진단 실패: {failures}개 항목 / selftest FAILED: {failures} check(s)")
    else:
        lines.append(
            f"자가 진단 통과 (경고 {warnings}개) / selftest passed ({warnings} warning(s))"
        )
    return "\n".join(lines)
