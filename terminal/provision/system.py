"""The host as provisioning sees it (OS, machine, Pi model, serial, packages, users) and the
commands it runs on it: run for real, or printed and skipped when provisioning into --root."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# Groups a device of the kit needs, when the system has them: cameras (video; render for the
# Pi 5's ISP and DMA heaps), keypad and touch (input), the GPIO header (gpio), a receipt
# printer on a serial line (dialout) or USB printer class (lp).
DEVICE_GROUPS = ("video", "render", "input", "gpio", "dialout", "lp")


class ProvisionError(Exception):
    """A step cannot go on. Says what happened and what the technician does next, in both
    languages; provisioning stops with nothing half-installed."""

    def __init__(self, en: str, next_en: str, ko: str = "", next_ko: str = "", code: int = 1):
        super().__init__(en)
        self.en, self.next_en = en, next_en
        self.ko, self.next_ko = ko or en, next_ko or next_en
        self.exit_code = code


@dataclass(frozen=True)
class Host:
    os_id: str
    os_version: str
    codename: str
    machine: str
    model: str  # "Raspberry Pi 4 Model B Rev 1.5", or "" elsewhere
    python: str

    @property
    def raspberry_pi(self) -> bool:
        return "Raspberry Pi" in self.model

    def describe(self) -> str:
        where = self.model or "not a Raspberry Pi"
        return f"{self.os_id} {self.os_version} ({self.codename}), {self.machine}, {where}"


def read_host(etc: Path = Path("/etc"), proc: Path = Path("/proc")) -> Host:
    release = {}
    try:
        for line in (etc / "os-release").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            release[key] = value.strip().strip('"')
    except OSError:
        pass
    try:
        model = (proc / "device-tree/model").read_bytes().rstrip(b"\0").decode(errors="replace")
    except OSError:
        model = ""
    return Host(
        os_id=release.get("ID", "unknown"),
        os_version=release.get("VERSION_ID", "?"),
        codename=release.get("VERSION_CODENAME", "?"),
        machine=platform.machine(),
        model=model,
        python=".".join(map(str, sys.version_info[:3])),
    )


def check_host(host: Host) -> list[str]:
    """Reasons this host cannot be a terminal (empty when it can)."""
    problems = []
    if host.os_id not in ("debian", "raspbian") or host.codename not in ("bookworm", "trixie"):
        problems.append(
            f"{host.os_id} {host.os_version} ({host.codename}) is not Raspberry Pi OS/Debian "
            "Bookworm; flash Raspberry Pi OS Bookworm (Lite or desktop)"
        )
    return problems


_SERIAL = re.compile(r"[^A-Za-z0-9._-]")


def device_serial(proc: Path = Path("/proc"), etc: Path = Path("/etc")) -> str:
    """The Pi's serial number (device tree), else the machine id: what the CSR carries."""
    for source in (proc / "device-tree/serial-number", etc / "machine-id"):
        try:
            text = source.read_bytes().rstrip(b"\0\n").decode(errors="replace")
        except OSError:
            continue
        cleaned = _SERIAL.sub("", text)[:40]
        if cleaned:
            return cleaned
    return _SERIAL.sub("", platform.node())[:40] or "unknown-serial"


def apt_packages(host: Host) -> list[str]:
    """What the terminal needs from apt on this host (the 32-bit fallbacks as scripts/setup)."""
    # libzbar0: pyzbar; fonts-nanum: Hangul; libusb-1.0-0: USB receipt printers (pyusb).
    wanted = ["libzbar0", "fonts-nanum", "python3-venv", "libusb-1.0-0"]
    if host.raspberry_pi:
        # python3-evdev: PyPI has only its source; the venv sees apt's (system site packages).
        wanted += ["python3-picamera2", "python3-lgpio", "python3-evdev"]
        if host.machine == "armv7l":
            wanted += ["python3-opencv", "python3-cryptography"]
    return wanted


def missing_packages(packages: list[str]) -> list[str]:
    if shutil.which("dpkg-query") is None:
        return list(packages)
    missing = []
    for package in packages:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
        )
        if "install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def existing_groups(names: tuple[str, ...] = DEVICE_GROUPS) -> list[str]:
    import grp

    found = []
    for name in names:
        try:
            grp.getgrnam(name)
            found.append(name)
        except KeyError:
            continue
    return found


def user_groups(user: str) -> set[str] | None:
    """The user's supplementary groups, or None when there is no such user."""
    import grp
    import pwd

    try:
        pwd.getpwnam(user)
    except KeyError:
        return None
    return {group.gr_name for group in grp.getgrall() if user in group.gr_mem}


@dataclass
class Commands:
    """Runs system commands, or (with `pretend`) prints them as `(--root) would run: …`."""

    pretend: bool
    out: object = None
    printed: list[str] = field(default_factory=list)

    def run(self, argv: list[str], *, what: str, check: bool = True) -> int:
        shown = " ".join(argv)
        self.out = self.out or sys.stdout
        if self.pretend:
            self.printed.append(shown)
            print(f"      (--root: not run) {shown}", file=self.out)
            return 0
        result = subprocess.run(argv, capture_output=True, text=True)
        if check and result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise ProvisionError(
                f"{what} failed: {shown}: {' / '.join(tail)}",
                "fix the cause above and run scripts/provision again (it resumes)",
                f"{what} 실패: {shown}",
                "위 원인을 고친 뒤 scripts/provision을 다시 실행하세요 (이어서 진행합니다)",
            )
        return result.returncode


def is_root() -> bool:
    return os.geteuid() == 0
