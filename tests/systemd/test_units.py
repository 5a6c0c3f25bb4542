"""The shipped systemd units: `systemd-analyze verify` is clean and the services' exposure (as
`systemd-analyze security --offline=true` scores it) stays at or under 2.0."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

UNITS = REPO / "systemd"
SERVICES = sorted(p.name for p in UNITS.glob("*.service"))
TIMERS = sorted(p.name for p in UNITS.glob("*.timer"))
ANALYZE = shutil.which("systemd-analyze")
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
EXPOSURE_LIMIT = 2.0

pytestmark = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is missing (scripts/setup installs systemd)"
)


def exec_paths(unit: Path) -> list[str]:
    return [
        line.split("=", 1)[1].split()[0].lstrip("-@:+!")
        for line in unit.read_text(encoding="utf-8").splitlines()
        if line.startswith("ExecStart=")
    ]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A root tree as provisioning leaves it: the units installed, their ExecStart binaries
    present (verify checks they exist), and the distribution's units for sysinit.target & co."""
    root = tmp_path_factory.mktemp("root")
    (root / "etc/systemd/system").mkdir(parents=True)
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    for unit in UNITS.glob("*.*"):
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
        for binary in exec_paths(unit):
            target = root / binary.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("#!/bin/sh\n")
            target.chmod(0o755)
    return root


def test_units_are_shipped():
    assert "qr-terminal.service" in SERVICES
    assert {"qr-terminal-day-close.timer", "qr-terminal-cert-renew.timer"} <= set(TIMERS)
    for timer in TIMERS:
        assert timer.replace(".timer", ".service") in SERVICES


@pytest.mark.parametrize("unit", SERVICES + TIMERS)
def test_verify_is_clean(root, unit):
    result = subprocess.run(
        [ANALYZE, "verify", f"--root={root}", unit], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr


def test_verify_catches_a_broken_unit(root, tmp_path):
    """The check above can fail: a misspelt option and a missing binary are both reported."""
    broken = root / "etc/systemd/system/qr-broken.service"
    broken.write_text(
        "[Service]\nType=notify\nExecStart=/opt/nowhere/qr-terminal run\nProtectSytem=strict\n"
    )
    try:
        result = subprocess.run(
            [ANALYZE, "verify", f"--root={root}", broken.name],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        broken.unlink()
    assert "ProtectSytem" in result.stderr
    assert "/opt/nowhere/qr-terminal" in result.stderr


def exposure(root: Path, unit: str) -> float:
    result = subprocess.run(
        [ANALYZE, "security", "--offline=true", f"--root={root}", "--no-pager", unit],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


@pytest.mark.parametrize("unit", SERVICES)
def test_exposure_is_low(root, unit):
    assert exposure(root, unit) <= EXPOSURE_LIMIT


def test_main_service_settings():
    """What the issue asks of the main service, read back from the shipped file."""
    text = (UNITS / "qr-terminal.service").read_text(encoding="utf-8")
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    assert settings["Type"] == ["notify"]
    assert int(settings["WatchdogSec"][0]) > 0
    assert settings["Restart"] == ["on-failure"]
    assert settings["User"] == ["qr-terminal"]
    assert settings["StateDirectory"] == ["qr-terminal"]
    assert settings["StateDirectoryMode"] == ["0700"]
    assert settings["DevicePolicy"] == ["closed"]
    assert settings["CapabilityBoundingSet"] == [""]
    assert "StartLimitBurst" in settings and "StartLimitIntervalSec" in settings
    # Never waits forever for a synchronised clock: no time-wait-sync dependency.
    assert not any(
        "time-wait-sync" in v for k in ("Wants", "Requires", "After") for v in settings.get(k, [])
    )
    for family in settings["RestrictAddressFamilies"][0].split():
        assert family in {"AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"}


@pytest.mark.parametrize("unit", SERVICES)
def test_exec_start_names_a_real_command(unit):
    """Each unit runs a `qr-terminal` command line that the CLI accepts."""
    import shlex

    from terminal.cli import build_parser

    line = next(
        line.split("=", 1)[1]
        for line in (UNITS / unit).read_text(encoding="utf-8").splitlines()
        if line.startswith("ExecStart=")
    )
    argv = shlex.split(line)
    assert argv[0] == "/opt/qr-terminal/current/venv/bin/qr-terminal"
    args = build_parser().parse_args(argv[1:])
    assert callable(args.handler)
