"""The nine provisioning steps in order, each printed as `[n/9] 단계… / step…` with its
result. Idempotent: every step first looks at what is there and changes only what differs;
the summary says what changed, or that nothing did."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from terminal.provision import devicefile, identity, services, software
from terminal.provision.files import atomic_symlink, atomic_write
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
    device_serial,
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
CODE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")


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


def normalise_code(code: str) -> str:
    return code.strip().upper().replace(" ", "")


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


def step_config(run: Run, state: dict) -> str:
    present = state["identity"]
    enrollment = state.get("enrollment")
    existing = devicefile.read_existing(run.device_file)
    if enrollment is not None:
        merchant, issuer = dict(enrollment.merchant), str(enrollment.config.get("issuer", ""))
        serial = state["serial"]
    else:  # not enrolled in this run: keep what the device file says
        merchant = dict((existing or {}).get("merchant", {}))
        issuer = str((existing or {}).get("device", {}).get("issuer", ""))
        serial = str((existing or {}).get("device", {}).get("serial", "")) or device_serial()
    text = devicefile.render(
        existing,
        device_id=present.device_id,
        serial=serial,
        issuer=issuer or "incheon",
        merchant=merchant,
        platform_url=present.platform,
        state_dir=STATE_DIR,
        raspberry_pi=state["host"].raspberry_pi,
    )
    changed = _write_if_different(run.device_file, text, mode=0o640)
    config = _check_config(run.device_file, run.opt)
    if _printer_rule(run, config):
        changed = True
        run.changed(f"udev rule {PRINTER_RULE.name}")
    state["config_changed"] = changed
    owners = _ownership(run)
    if not changed and not owners:
        return f"변경 없음 / unchanged: {run.device_file}"
    if changed:
        run.changed(f"wrote {run.device_file}")
    return f"기록 / written: {run.device_file}" if changed else "소유권 정리 / ownership fixed"


PRINTER_RULE = Path("/etc/udev/rules.d/60-qr-terminal-printer.rules")


def _printer_rule(run: Run, config) -> bool:
    """A USB receipt printer's device node belongs to root; this rule gives it to group lp
    (the service user is in lp). Written only for printer.backend = "usb"; True if changed."""
    rule = under(run.options.root, PRINTER_RULE)
    if config.printer.backend != "usb":
        return False
    text = (
        "# Written by scripts/provision: the receipt printer for the qr-terminal user (group lp).\n"
        f'SUBSYSTEM=="usb", ATTRS{{idVendor}}=="{config.printer.usb_vendor:04x}", '
        f'ATTRS{{idProduct}}=="{config.printer.usb_product:04x}", MODE="0660", GROUP="lp"\n'
    )
    if not _write_if_different(rule, text, mode=0o644):
        return False
    run.commands.run(["udevadm", "control", "--reload"], what="reloading udev", check=False)
    run.commands.run(
        ["udevadm", "trigger", "--subsystem-match=usb"], what="applying udev rules", check=False
    )
    return True


def _write_if_different(path: Path, text: str, mode: int) -> bool:
    """Writes `text` crash-safely (the old file stays until the new one replaces it, and is
    kept as .bak); False when the file already says exactly this."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode("utf-8"), mode, keep_backup=True)
    return True


def _check_config(device_file: Path, opt: Path):
    """The device file must load with the release's own firmware_config, or nothing starts."""
    from terminal.config.loader import ConfigError, load_config

    current = opt / "current" / "src" / "firmware_config"
    try:
        return load_config(
            device_file=device_file, env={}, directory=current if current.is_dir() else None
        ).config
    except ConfigError as error:
        raise ProvisionError(
            f"{device_file} does not load: {error.problems[0]}",
            f"fix it (qr-terminal config check {device_file}) and run again",
            f"{device_file} 설정 오류",
            f"설정을 고친 뒤 다시 실행하세요 (qr-terminal config check {device_file})",
        ) from None


def _ownership(run: Run) -> bool:
    """State belongs to the service user (0700); its config is readable by it (0750)."""
    if run.options.root is not None:
        return False  # no such user in a --root tree; the printed useradd says who it will be
    import pwd

    user = pwd.getpwnam(SERVICE_USER)
    changed = False
    for path in [run.files.state_dir, *run.files.state_dir.rglob("*")]:
        info = path.lstat()
        if (info.st_uid, info.st_gid) != (user.pw_uid, user.pw_gid):
            os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)
            changed = True
    for path, mode in ((run.files.state_dir, 0o700), (run.etc, 0o750)):
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
            changed = True
    for path in (run.etc, run.device_file):
        if path.stat().st_gid != user.pw_gid:
            os.chown(path, 0, user.pw_gid)
            changed = True
    return changed


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
