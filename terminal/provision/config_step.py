"""Provisioning step 7: the device file (/etc/qr-terminal/device.toml, written crash-safely
and checked to load), the USB printer's udev rule, and who owns the state and config."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from terminal.provision import devicefile
from terminal.provision.files import atomic_write
from terminal.provision.layout import SERVICE_USER, STATE_DIR, under
from terminal.provision.system import ProvisionError, device_serial

if TYPE_CHECKING:
    from terminal.provision.steps import Run


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
