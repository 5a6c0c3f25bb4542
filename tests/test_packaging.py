"""A non-editable install works away from the source tree: the wheel carries firmware_config/,
and `qr-terminal config show` and `emv parse` run from it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO

PIX = (
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR"
    "5913Fulano de Tal6008BRASILIA62070503***63041D3D"
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv holding only the wheel; its dependencies come from the test's own venv
    through a .pth line (which adds a path without running that venv's editable hook)."""
    work = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(work / "dist"), str(REPO)],
        capture_output=True, text=True, check=False,
    )
    assert built.returncode == 0, built.stderr
    wheel = next((work / "dist").glob("qr_terminal-*.whl"))
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=False)
    base = {"base": str(env_dir), "platbase": str(env_dir)}
    site = Path(sysconfig.get_path("purelib", vars=base))
    (site / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    python = env_dir / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
         "--no-index", str(wheel)],
        capture_output=True, text=True, check=False,
    )
    if installed.returncode != 0 and "no such option: --python" in installed.stderr:
        pytest.skip("this pip cannot install into another interpreter (needs pip >= 22.3)")
    assert installed.returncode == 0, installed.stderr
    return env_dir


def run(env_dir: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QR_TERMINAL")}
    return subprocess.run(
        [str(env_dir / "bin" / "qr-terminal"), *argv],
        input=stdin, capture_output=True, text=True, check=False,
        cwd=env_dir, env=environment,
    )


def test_the_wheel_is_what_runs_not_the_source_tree(installed):
    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import terminal; print(terminal.__file__)"],
        capture_output=True, text=True, check=True, cwd=installed,
    ).stdout
    assert str(installed) in where and str(REPO / "terminal") not in where


def test_config_show_from_the_installed_wheel(installed):
    shown = run(installed, "config", "show")
    assert shown.returncode == 0, shown.stderr
    assert "[issuer]" in shown.stdout and "incheon" in shown.stdout


def test_emv_parse_from_the_installed_wheel(installed):
    parsed = run(installed, "emv", "parse", PIX)
    assert parsed.returncode == 0, parsed.stderr
    assert '"valid": true' in parsed.stdout and "Fulano de Tal" in parsed.stdout


def test_the_platform_simulator_finds_its_spec_in_the_wheel(installed):
    probe = (
        "from terminal.sim.platform.validation import SPEC_PATH, SpecCheck;"
        "SpecCheck.load(SPEC_PATH); print(SPEC_PATH)"
    )
    found = subprocess.run(
        [str(installed / "bin" / "python"), "-c", probe],
        capture_output=True, text=True, check=False, cwd=installed,
    )
    assert found.returncode == 0, found.stderr
    assert str(installed) in found.stdout and found.stdout.strip().endswith("openapi.yaml")
