"""The nine provisioning steps in order, each printed as `[n/9] 단계… / step…` with its
result. Idempotent: every step first looks at what is there and changes only what differs;
the summary says what changed, or that nothing did."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from terminal.provision import services, software
from terminal.provision.config_step import step_config
from terminal.provision.enroll_step import step_enroll, step_key
from terminal.provision.files import atomic_symlink
from terminal.provision.layout import (
    DEVICE_FILE,
    ETC_DIR,
    OPT_DIR,
    SERVICE_USER,
    STATE_DIR,
    UNIT_DIR,
    ProvisionedPaths,
    StateFiles,
    under,
)
from terminal.provision.system import (
    Commands,
    ProvisionError,
    apt_packages,
    check_host,
    existing_groups,
    missing_packages,
    read_host,
    user_groups,
)

STEPS = (
    ("시스템 확인", "checking the system"),
    ("기기 키", "device key"),
    ("등록 중", "enrolling"),
    ("패키지 설치", "system packages"),
    ("서비스 사용자", "service user"),
    ("소프트웨어 설치", "installing the software"),
    ("설정 기록", "writing the configuration"),
    ("서비스 시작", "starting the services"),
    ("자가 진단", "selftest"),
)


@dataclass
class Options:
    platform: str | None
    platform_ca: Path | None
    code: str | None
    root: Path | None
    source: Path
    now_ms: int
    reenroll: bool = False
    rekey: bool = False
    reuse_deps: bool = False
    wheels: Path | None = None
    serial: str | None = None
    prompt: object = None  # callable asking for the code; None: not interactive


@dataclass
class Run:
    options: Options
    out: object = None
    changes: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.out = self.out or sys.stdout
        root = self.options.root
        self.commands = Commands(pretend=root is not None, out=self.out)
        self.etc = under(root, ETC_DIR)
        self.device_file = under(root, DEVICE_FILE)
        self.opt = under(root, OPT_DIR)
        self.unit_dir = under(root, UNIT_DIR)
        self.files = StateFiles.from_paths(ProvisionedPaths(), root)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def changed(self, what: str) -> None:
        self.changes.append(what)


def provision(options: Options, out=None) -> int:
    run = Run(options, out or sys.stdout)
    steps = (
        step_system,
        step_key,
        step_enroll,
        step_packages,
        step_user,
        step_software,
        step_config,
        step_services,
        step_selftest,
    )
    state: dict = {}
    for number, (step, (ko, en)) in enumerate(zip(steps, STEPS, strict=True), start=1):
        run.say(f"[{number}/{len(STEPS)}] {ko}… / {en}…")
        try:
            result = step(run, state)
        except ProvisionError as error:
            run.say(f"      실패 / FAILED: {error.ko}")
            if error.en != error.ko:
                run.say(f"      ({error.en})")
            run.say(f"      할 일 / next: {error.next_ko}")
            if error.next_en != error.next_ko:
                run.say(f"      ({error.next_en})")
            return error.exit_code
        run.say(f"      → {result}")
    summary(run, state)
    return 0


def step_system(run: Run, state: dict) -> str:
    host = read_host()
    state["host"] = host
    problems = check_host(host)
    if problems and run.options.root is None:
        raise ProvisionError(
            "; ".join(problems),
            "use a Raspberry Pi with Raspberry Pi OS Bookworm",
            "; ".join(problems),
            "라즈베리 파이 OS Bookworm이 설치된 기기에서 실행하세요",
        )
    cameras = sorted(p.name for p in Path("/dev").glob("video*")) if host.raspberry_pi else []
    extra = f", cameras: {' '.join(cameras) or 'none found'}" if host.raspberry_pi else ""
    warning = f" (warning: {'; '.join(problems)})" if problems else ""
    return f"확인 / ok: {host.describe()}{extra}{warning}"


def step_packages(run: Run, state: dict) -> str:
    if run.options.root is not None:
        return "건너뜀 / skipped (--root: packages belong to the host)"
    missing = missing_packages(apt_packages(state["host"]))
    if not missing:
        return "변경 없음 / unchanged: all installed"
    run.commands.run(["apt-get", "update", "-qq"], what="apt-get update")
    run.commands.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        what="installing packages",
    )
    run.changed(f"installed {' '.join(missing)}")
    return f"설치 / installed: {' '.join(missing)}"


def step_user(run: Run, state: dict) -> str:
    groups = existing_groups()
    if run.options.root is not None:
        run.commands.run(_useradd(), what="creating the user")
        if groups:
            run.commands.run(["usermod", "-aG", ",".join(groups), SERVICE_USER], what="groups")
        return "출력만 / printed, not run (--root)"
    present = user_groups(SERVICE_USER)
    done = []
    if present is None:
        run.commands.run(_useradd(), what="creating the user")
        present = set()
        done.append("created")
    lacking = [g for g in groups if g not in present]
    if lacking:
        run.commands.run(["usermod", "-aG", ",".join(lacking), SERVICE_USER], what="groups")
        done.append(f"added to {','.join(lacking)}")
    if not done:
        return f"변경 없음 / unchanged: {SERVICE_USER} in {','.join(sorted(present)) or '-'}"
    run.changed(f"user {SERVICE_USER} {' and '.join(done)}")
    return f"완료 / done: {SERVICE_USER} {' and '.join(done)}"


def _useradd() -> list[str]:
    return [
        "useradd",
        "--system",
        "--user-group",
        "--no-create-home",
        "--home-dir",
        STATE_DIR,
        "--shell",
        "/usr/sbin/nologin",
        SERVICE_USER,
    ]


def step_software(run: Run, state: dict) -> str:
    opt, options = run.opt, run.options
    name = software.release_name(options.source)
    fresh = not software.is_complete(opt / "releases" / name)
    if fresh:
        run.say(f"      installing release {name} (pip may take a few minutes on a Pi)…")
    software.install_release(
        opt, options.source, reuse_deps=options.reuse_deps, wheels=options.wheels
    )
    moved = software.switch_current(opt, name)
    if _command_link(run):
        run.changed(f"{COMMAND_LINK} → the current release")
    state["release"], state["software_changed"] = name, fresh or moved
    if not (fresh or moved):
        return f"변경 없음 / unchanged: {name} is current"
    run.changed(f"software {name}")
    return f"설치 / installed: {opt / 'releases' / name}, current → {name}"


COMMAND_LINK = Path("/usr/local/bin/qr-terminal")


def _command_link(run: Run) -> bool:
    """`qr-terminal` on the PATH, following `current` (so updates move it too)."""
    link = under(run.options.root, COMMAND_LINK)
    return atomic_symlink(link, OPT_DIR / "current" / "venv" / "bin" / "qr-terminal")


def step_services(run: Run, state: dict) -> str:
    release_units = run.opt / "current" / "src" / "systemd"
    changed_units = services.install_units(release_units, run.unit_dir)
    for name in changed_units:
        run.changed(f"unit {name}")
    restart = bool(state.get("software_changed") or state.get("config_changed"))
    restart = restart or "enrollment" in state
    done = services.activate(run.commands, units_changed=bool(changed_units), restart=restart)
    if not changed_units and not done:
        if run.options.root is not None:
            return "변경 없음 / unchanged: units as shipped"
        return "변경 없음 / unchanged: units installed, terminal running"
    what = ", ".join(done) or "-"
    units = f"units: {', '.join(changed_units)}; " if changed_units else ""
    if run.options.root is not None:
        return f"{units}systemctl printed, not run (--root)"
    return f"{units}{what}; the terminal reported ready"


SELFTEST_TIMEOUT_S = 120.0


def step_selftest(run: Run, state: dict) -> str:
    binary = run.opt / "current" / "venv" / "bin" / "qr-terminal"
    report = services.run_selftest(binary, run.options.root, SELFTEST_TIMEOUT_S)
    if isinstance(report, str):
        raise ProvisionError(
            report,
            "run it by hand to see why: sudo qr-terminal selftest",
            "자가 진단을 끝내지 못했습니다",
            "직접 실행해 원인을 확인하세요: sudo qr-terminal selftest",
        )
    state["selftest"] = report
    failed = services.failed_checks(report)
    if failed:
        first = failed[0]
        raise ProvisionError(
            "selftest failed: " + "; ".join(f"{c['title_en']}: {c['en']}" for c in failed),
            first["fix_en"] or "run: sudo qr-terminal selftest",
            "자가 진단 실패: " + "; ".join(f"{c['title_ko']}: {c['ko']}" for c in failed),
            first["fix_ko"] or "실행: sudo qr-terminal selftest",
        )
    counts = report["counts"]
    return (
        f"통과 / passed: {counts['ok']} ok, {counts['warn']} warning(s), {counts['skip']} skipped"
    )


def summary(run: Run, state: dict) -> None:
    present = state["identity"]
    run.say("")
    run.say(f"단말기 / terminal:   {present.device_id} (key {present.kid})")
    run.say(f"가맹점 / merchant:   {present.merchant}")
    run.say(f"플랫폼 / platform:   {present.platform}")
    run.say(f"인증서 / certificate valid until {present.not_after:%Y-%m-%d}")
    run.say(f"소프트웨어 / software: {state['release']}")
    if run.changes:
        run.say("바뀐 것 / changed: " + "; ".join(run.changes))
    else:
        run.say("변경 없음 / nothing changed: this terminal was already provisioned like this")
