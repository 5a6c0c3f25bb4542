"""Provisioning into a --root tree against the real platform simulator (HTTPS + mTLS on
127.0.0.1): a full run, a second run that changes nothing, a reused code refused with the
platform's reason, --reenroll and --rekey, and --dry-run's plan."""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from terminal.cli import main
from terminal.ledger.store import Ledger
from terminal.signing import DeviceKey
from terminal.sim.platform.server import PlatformServer
from tests.conftest import REPO
from tests.ledger.helpers import T0, sale

STEP_LINES = [f"[{n}/9]" for n in range(1, 10)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with PlatformServer(tmp_path_factory.mktemp("platform")) as running:
        yield running


_FROZEN: list[Path] = []


def frozen_source() -> Path:
    """One copy of the source per test run: other work in the same tree must not turn a second
    provisioning run into an update (a release is named by its source's digest)."""
    if not _FROZEN:
        from terminal.provision import software

        target = Path(tempfile.mkdtemp(prefix="qr-terminal-source-"))
        atexit.register(shutil.rmtree, target, True)
        for part in software.PARTS:
            shutil.copytree(
                REPO / part, target / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        for name in software.FILES:
            shutil.copy2(REPO / name, target / name)
        _FROZEN.append(target)
    return _FROZEN[0]


def provision(server, root: Path, *extra: str) -> list[str]:
    return [
        "provision",
        "--source",
        str(frozen_source()),
        "--root",
        str(root),
        "--platform",
        server.url,
        "--platform-ca",
        str(server.ca_path),
        "--reuse-deps",
        "--serial",
        "TEST-SERIAL-1",
        *extra,
    ]


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root with its type, mode, mtime and content digest."""
    found = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder) / name
            info = path.lstat()
            digest = ""
            if path.is_file() and not path.is_symlink():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            link = os.readlink(path) if path.is_symlink() else ""
            found[str(path.relative_to(root))] = (info.st_mode, info.st_mtime_ns, digest, link)
    return found


@pytest.fixture(scope="module")
def provisioned(server, tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    return root, server.new_code()


def test_first_run_provisions_everything(server, provisioned, capsys):
    root, code = provisioned
    assert main(provision(server, root, "--code", code)) == 0
    out = capsys.readouterr().out
    for line in STEP_LINES:
        assert line in out
    assert "[3/9] 등록 중… / enrolling…" in out
    state = root / "var/lib/qr-terminal"
    assert state.stat().st_mode & 0o777 == 0o700
    assert (state / "device-key.pem").stat().st_mode & 0o777 == 0o600
    note = json.loads((state / "enrollment.json").read_text())
    assert note["platform"] == server.url
    device_toml = (root / "etc/qr-terminal/device.toml").read_text()
    assert f'id = "{note["device_id"]}"' in device_toml
    assert f'url = "{server.url}"' in device_toml
    assert (root / "etc/systemd/system/qr-terminal.service").is_file()
    current = root / "opt/qr-terminal/current"
    assert current.is_symlink() and (current / "venv/bin/qr-terminal").is_file()
    command = root / "usr/local/bin/qr-terminal"
    assert os.readlink(command) == "/opt/qr-terminal/current/venv/bin/qr-terminal"
    # The key is never printed; user creation and systemctl are printed, not run.
    key_text = (state / "device-key.pem").read_text()
    assert "PRIVATE KEY" not in out and key_text.splitlines()[1] not in out
    assert "(--root: not run) useradd" in out
    assert "(--root: not run) systemctl enable" in out
    assert "통과 / passed" in out


def test_second_run_changes_nothing_and_says_so(server, provisioned, capsys):
    root, _ = provisioned
    before = snapshot(root)
    assert main(provision(server, root)) == 0  # no code needed: already enrolled
    out = capsys.readouterr().out
    assert snapshot(root) == before
    assert "변경 없음 / nothing changed" in out
    assert "systemctl" not in out


def test_installed_selftest_passes_on_the_tree(server, provisioned, capsys):
    root, _ = provisioned
    assert main(["selftest", "--root", str(root), "--json", "--no-devices"]) == 0
    checks = {c["check"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["platform"]["status"] == "ok"
    assert checks["key"]["status"] == "ok"
    assert abs(checks["clock"]["facts"]["skew_ms"]) < 5000


def test_reused_code_is_refused_with_the_platforms_reason(server, provisioned, tmp_path, capsys):
    _, used = provisioned
    root = tmp_path / "fresh"
    root.mkdir()
    assert main(provision(server, root, "--code", used)) == 2
    out = capsys.readouterr().out
    assert "code_used" in out or "Code used" in out
    assert "새 코드" in out and "new code" in out
    assert list(root.iterdir()) == []  # nothing installed


def test_mistyped_code_is_refused_before_anything(server, tmp_path, capsys):
    root = tmp_path / "typo"
    root.mkdir()
    assert main(provision(server, root, "--code", "ABCD-EFGH")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PPPP-SSSS-SSSS" in err
    assert list(root.iterdir()) == []


def test_wrong_secret_is_refused_with_the_platforms_reason(server, tmp_path, capsys):
    root = tmp_path / "wrong"
    root.mkdir()
    real = server.new_code()
    wrong = real[:5] + ("0000" if real[5:9] != "0000" else "1111") + real[9:]
    assert main(provision(server, root, "--code", wrong)) == 2
    out = capsys.readouterr().out
    assert "code_invalid" in out or "typo" in out
    assert list(root.iterdir()) == []


def test_reenroll_keeps_key_and_ledger(server, tmp_path, capsys):
    root = tmp_path / "re"
    root.mkdir()
    assert main(provision(server, root, "--code", server.new_code())) == 0
    state = root / "var/lib/qr-terminal"
    key_before = (state / "device-key.pem").read_bytes()
    device_id = json.loads((state / "enrollment.json").read_text())["device_id"]
    ledger = Ledger(state / "terminal.db", DeviceKey.load(state / "device-key.pem"), device_id)
    sale(ledger, 7000, n=(int(time.time() * 1000) - T0) // 1000)  # a sale made just now
    ledger.close()
    ledger_before = (state / "terminal.db").read_bytes()
    assert main(provision(server, root, "--reenroll", "--code", server.new_code())) == 0
    assert (state / "device-key.pem").read_bytes() == key_before
    assert (state / "terminal.db").read_bytes() == ledger_before
    assert "enrolled as" in capsys.readouterr().out


def test_rekey_retires_the_old_key_and_ledger(server, tmp_path, capsys):
    root = tmp_path / "rekey"
    root.mkdir()
    assert main(provision(server, root, "--code", server.new_code())) == 0
    state = root / "var/lib/qr-terminal"
    key_before = (state / "device-key.pem").read_bytes()
    (state / "terminal.db").write_bytes(b"old ledger")
    assert main(provision(server, root, "--rekey", "--code", server.new_code())) == 0
    [retired] = state.glob("retired-*")
    assert (retired / "device-key.pem").read_bytes() == key_before
    assert (retired / "terminal.db").read_bytes() == b"old ledger"
    assert (state / "device-key.pem").read_bytes() != key_before
    assert not (state / "terminal.db").exists()


def test_dry_run_prints_the_plan_and_changes_nothing(server, tmp_path, capsys):
    root = tmp_path / "dry"
    root.mkdir()
    code = server.new_code()
    assert main(provision(server, root, "--dry-run", "--code", code)) == 0
    out = capsys.readouterr().out
    assert "plan" in out
    for line in STEP_LINES:
        assert line in out
    assert "make a new device key" in out and "enroll at" in out
    assert list(root.iterdir()) == []
    # The code was not sent: it still works.
    assert main(provision(server, root, "--code", code)) == 0


def test_needs_root_without_root_option(server, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["provision", "--platform", server.url, "--code", "ABCD-EFGH-JKMN"]) == 2
    assert "sudo" in capsys.readouterr().err


def test_plain_http_platform_is_refused(tmp_path, capsys):
    root = tmp_path / "http"
    root.mkdir()
    assert main(["provision", "--root", str(root), "--platform", "http://example.org"]) == 2
    assert "https://" in capsys.readouterr().err
    assert list(root.iterdir()) == []


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_installed_units_verify_against_the_provisioned_tree(provisioned, tmp_path):
    """The units as installed find their ExecStart in the tree provisioning made."""
    root, _ = provisioned
    verify_root = tmp_path / "verify"
    shutil.copytree(root, verify_root, symlinks=True)
    (verify_root / "usr/lib/systemd").mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        "/usr/lib/systemd/system", verify_root / "usr/lib/systemd/system", symlinks=True
    )
    units = sorted(p.name for p in (verify_root / "etc/systemd/system").glob("qr-terminal*"))
    assert len(units) == 5
    result = subprocess.run(
        ["systemd-analyze", "verify", f"--root={verify_root}", *units],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_sections_the_technician_added_are_kept_and_a_usb_printer_gets_its_rule(
    server, tmp_path, capsys
):
    root = tmp_path / "printer"
    root.mkdir()
    assert main(provision(server, root, "--code", server.new_code())) == 0
    device_file = root / "etc/qr-terminal/device.toml"
    with device_file.open("a", encoding="utf-8") as handle:
        handle.write('\n[printer]\nbackend = "usb"\nusb_vendor = 0x0416\nusb_product = 0x5011\n')
    capsys.readouterr()
    # No printer is plugged into this machine: everything is installed, and the selftest says
    # exactly that (the step's failure names the printer and what to check).
    assert main(provision(server, root)) == 1
    out = capsys.readouterr().out
    assert "[9/9]" in out and "printer" in out and "lsusb" in out
    rule = (root / "etc/udev/rules.d/60-qr-terminal-printer.rules").read_text()
    assert 'ATTRS{idVendor}=="0416", ATTRS{idProduct}=="5011"' in rule and 'GROUP="lp"' in rule
    assert "(--root: not run) udevadm control --reload" in out
    assert 'backend = "usb"' in device_file.read_text()  # the technician's section stayed
    before = snapshot(root)
    assert main(provision(server, root)) == 1
    assert "udevadm" not in capsys.readouterr().out
    assert snapshot(root) == before


def test_the_shops_pin_hash_is_kept_and_an_old_unsalted_one_is_refused_with_the_command(
    server, tmp_path, capsys
):
    from terminal.config.pins import make_pin_hash

    root = tmp_path / "pins"
    root.mkdir()
    assert main(provision(server, root, "--code", server.new_code())) == 0
    device_file = root / "etc/qr-terminal/device.toml"
    technician_set = device_file.read_text(encoding="utf-8")
    stored = make_pin_hash("7410")
    device_file.write_text(technician_set + f'\n[counter]\nmanager_pin_hash = "{stored}"\n')
    capsys.readouterr()
    assert main(provision(server, root)) == 0
    assert f'manager_pin_hash = "{stored}"' in device_file.read_text(encoding="utf-8")
    old = hashlib.sha256(b"7410").hexdigest()
    device_file.write_text(technician_set + f'\n[counter]\nmanager_pin_sha256 = "{old}"\n')
    capsys.readouterr()
    assert main(provision(server, root)) != 0
    said = capsys.readouterr()
    assert "manager_pin_sha256" in said.out + said.err
    assert "qr-terminal config pin-hash" in said.out + said.err
    assert old not in said.out + said.err
