"""`scripts/update`: installs a new release beside the running one, switches `current`,
restarts, and switches back by itself unless the terminal reports ready and passes its
selftest within the time limit. Only /opt/qr-terminal and the units change: the key, the
certificate and the ledger (so the journal's numbering) are never touched."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from terminal.provision import services, software
from terminal.provision.layout import MAIN_UNIT, OPT_DIR, UNIT_DIR, under
from terminal.provision.system import Commands, ProvisionError

KEEP_RELEASES = 3  # the current one, the one before (for a rollback), and one more


@dataclass
class UpdateOptions:
    source: Path
    root: Path | None
    timeout_s: float = 180.0
    reuse_deps: bool = False
    wheels: Path | None = None


def update(options: UpdateOptions, out=None) -> int:
    out = out or sys.stdout
    opt = under(options.root, OPT_DIR)
    unit_dir = under(options.root, UNIT_DIR)
    commands = Commands(pretend=options.root is not None, out=out)

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    previous = software.current_release(opt)
    if previous is None:
        raise ProvisionError(
            f"no release is installed under {opt}",
            "provision the device first: sudo scripts/provision",
            "설치된 버전이 없습니다",
            "먼저 프로비저닝하세요: sudo scripts/provision",
            code=2,
        )
    name = software.release_name(options.source)
    if name == previous:
        say(f"변경 없음 / nothing to do: {name} is already running")
        return 0
    say(f"[1/4] 새 버전 설치 / installing {name} beside {previous}…")
    software.install_release(
        opt, options.source, reuse_deps=options.reuse_deps, wheels=options.wheels
    )
    say(f"[2/4] 전환 / switching current → {name}, restarting…")
    started = time.monotonic()
    _switch(opt, unit_dir, commands, name)
    say("[3/4] 확인 / waiting for ready and the selftest…")
    problem = _verify(opt, options, commands, deadline=started + options.timeout_s)
    if problem is None:
        say(f"[4/4] 완료 / done: running {name} (previous {previous} kept for a rollback)")
        _prune(opt, keep={name, previous})
        return 0
    say(f"      실패 / FAILED: {problem}")
    say(f"[4/4] 되돌림 / rolling back to {previous}…")
    _switch(opt, unit_dir, commands, previous)
    back = _verify(opt, options, commands, deadline=time.monotonic() + options.timeout_s)
    if back is None:
        say(f"      → {previous} runs again; {name} stays installed for inspection")
        say("      할 일 / next: sudo scripts/collect-diagnostics, and send it to support")
    else:
        say(f"      → {previous} does not pass either: {back}")
        say("      할 일 / next: sudo scripts/collect-diagnostics; call support")
    return 1


def _switch(opt: Path, unit_dir: Path, commands: Commands, name: str) -> None:
    software.switch_current(opt, name)
    changed = services.install_units(opt / "releases" / name / "src" / "systemd", unit_dir)
    if changed:
        commands.run(["systemctl", "daemon-reload"], what="reloading systemd")
    # Type=notify: `restart` returns once the new process said READY=1, or fails.
    commands.run(
        ["timeout", str(services.READY_TIMEOUT_S), "systemctl", "restart", MAIN_UNIT],
        what="restarting the terminal",
        check=False,
    )


def _verify(opt: Path, options: UpdateOptions, commands: Commands, deadline: float) -> str | None:
    """None when the service is active and the selftest passes before the deadline."""
    if not commands.pretend and not services.is_active(MAIN_UNIT):
        return "the service did not report ready (journalctl -u qr-terminal -n 50)"
    binary = opt / "current" / "venv" / "bin" / "qr-terminal"
    remaining = max(1.0, deadline - time.monotonic())
    report = services.run_selftest(binary, options.root, remaining)
    if isinstance(report, str):
        return report
    failed = [f"{c['title_en']}: {c['en']}" for c in services.failed_checks(report)]
    return "selftest failed: " + "; ".join(failed) if failed else None


def _prune(opt: Path, keep: set[str]) -> None:
    """Old releases beyond KEEP_RELEASES go, oldest first; the current and previous stay."""
    releases = sorted((opt / "releases").iterdir(), key=lambda p: p.stat().st_mtime)
    extra = [p for p in releases if p.name not in keep][: max(0, len(releases) - KEEP_RELEASES)]
    for path in extra:
        shutil.rmtree(path, ignore_errors=True)
