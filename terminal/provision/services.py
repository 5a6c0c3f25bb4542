"""The systemd units: copied from the current release into /etc/systemd/system when they
differ, enabled, and the terminal (re)started and waited for: `systemctl start` of a
Type=notify service returns once the app has said READY=1, or fails."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from terminal.provision.layout import MAIN_UNIT, TIMERS
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
        temporary = unit_dir / f".{unit.name}.{os.getpid()}"
        temporary.write_bytes(text)
        temporary.chmod(0o644)
        os.replace(temporary, target)
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
