"""The systemd units: copied from the current release into /etc/systemd/system when they
differ, enabled, and the terminal (re)started and waited for: `systemctl start` of a
Type=notify service returns once the app has said READY=1, or fails. And the installed
release's selftest, run as the terminal's user, as provisioning and updates ask it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from terminal.provision.files import atomic_write
from terminal.provision.layout import MAIN_UNIT, SERVICE_USER, TIMERS
from terminal.provision.system import Commands, ProvisionError

READY_TIMEOUT_S = 120


def install_units(source: Path, unit_dir: Path) -> list[str]:
    """Writes each shipped unit whose content differs (atomically); returns their names."""
    changed = []
    unit_dir.mkdir(parents=True, exist_ok=True)
    for unit in sorted(source.glob("qr-terminal*.*")):
        target = unit_dir / unit.name
        text = unit.read_bytes()
        if target.is_file() and target.read_bytes() == text:
            continue
        atomic_write(target, text, 0o644)
        changed.append(unit.name)
    return changed


def is_enabled(unit: str) -> bool:
    result = subprocess.run(["systemctl", "is-enabled", unit], capture_output=True, text=True)
    return result.stdout.strip() == "enabled"


def is_active(unit: str) -> bool:
    result = subprocess.run(["systemctl", "is-active", unit], capture_output=True, text=True)
    return result.stdout.strip() == "active"


def activate(commands: Commands, *, units_changed: bool, restart: bool) -> list[str]:
    """daemon-reload, enable, and start or restart; returns what was done (empty: nothing)."""
    done = []
    units = [MAIN_UNIT, *TIMERS]
    if units_changed:
        commands.run(["systemctl", "daemon-reload"], what="reloading systemd")
        done.append("daemon-reload")
    if commands.pretend:
        # Nothing to ask in a --root tree: print what the files that changed would need.
        if units_changed:
            commands.run(["systemctl", "enable", *units], what="enabling the services")
            done.append("enable")
        if units_changed or restart:
            commands.run(["systemctl", "restart", MAIN_UNIT, *TIMERS], what="starting")
            done.append("restart")
        return done
    if not all(is_enabled(u) for u in units):
        commands.run(["systemctl", "enable", *units], what="enabling the services")
        done.append("enable")
    running = is_active(MAIN_UNIT)
    if running and not restart and not units_changed:
        return done
    verb = "restart" if running else "start"
    if not running:
        # A unit that hit its start limit refuses `start` until its failed state is cleared.
        commands.run(["systemctl", "reset-failed", MAIN_UNIT], what="clearing", check=False)
    commands.run(["systemctl", verb, *TIMERS], what="starting the timers")
    try:
        commands.run(
            ["timeout", str(READY_TIMEOUT_S), "systemctl", verb, MAIN_UNIT],
            what="starting the terminal",
        )
    except ProvisionError as error:
        raise ProvisionError(
            f"the terminal did not report ready: {error.en}",
            "read why: journalctl -u qr-terminal -n 50; fix it and run scripts/provision again",
            "단말기 서비스가 준비 상태가 되지 않았습니다",
            "원인 확인: journalctl -u qr-terminal -n 50; 고친 뒤 scripts/provision을 다시 실행",
        ) from None
    return [*done, verb]


CHECK_TEXTS = ("check", "status", "title_ko", "title_en", "ko", "en", "fix_ko", "fix_en")
COUNTED = ("ok", "warn", "fail", "skip")


def run_selftest(binary: Path, root: Path | None, timeout_s: float) -> dict | str:
    """Runs `qr-terminal selftest --json` of the installed release (as the service user, or on
    the --root tree). Returns its report (every check with all its texts, and the counts), or
    why there is none: it did not start, did not finish in time, or said something else."""
    if root is not None:
        argv = [str(binary), "selftest", "--json", "--root", str(root)]
    else:
        argv = ["runuser", "-u", SERVICE_USER, "--", str(binary), "selftest", "--json"]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return f"the selftest did not finish in {timeout_s:g} s"
    except OSError as error:
        return f"the selftest did not start: {error}"
    try:
        report = json.loads(result.stdout)
    except ValueError:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1][-300:]
        return f"the selftest did not run: {last}"
    return _checked_report(report)


def _checked_report(report) -> dict | str:
    """The report with the shape callers read, or what is wrong with it (another version's
    selftest, a crash that printed JSON of another kind)."""
    checks = report.get("checks") if isinstance(report, dict) else None
    if not isinstance(checks, list) or not all(isinstance(c, dict) for c in checks):
        return f"the selftest answered something unexpected: {str(report)[:200]}"
    if not checks:
        return "the selftest ran no checks"
    checks = [{name: str(c.get(name) or "") for name in CHECK_TEXTS} for c in checks]
    counts = {name: sum(c["status"] == name for c in checks) for name in COUNTED}
    return {"checks": checks, "counts": counts, "passed": counts["fail"] == 0}


def failed_checks(report: dict) -> list[dict]:
    return [check for check in report["checks"] if check["status"] == "fail"]
