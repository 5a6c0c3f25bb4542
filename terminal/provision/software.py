"""The software under /opt/qr-terminal: one folder per release (its source and its venv, made
with --system-site-packages so apt's picamera2 and lgpio are seen) and a `current` link that
the systemd units run. A release counts only once complete; `current` moves atomically."""

from __future__ import annotations

import hashlib
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

from terminal import __version__
from terminal.provision.files import atomic_symlink
from terminal.provision.system import ProvisionError

# What a release carries of the source tree.
PARTS = ("terminal", "firmware_config", "systemd", "docs", "scripts")
FILES = ("pyproject.toml", "setup.py", "README.md")
COMPLETE = ".complete"  # written last: a release folder without it is an interrupted install
_SKIP = {"__pycache__", ".pytest_cache"}


def _source_files(source: Path) -> list[Path]:
    found = [source / name for name in FILES if (source / name).is_file()]
    for part in PARTS:
        for path in sorted((source / part).rglob("*")):
            if path.is_file() and not _SKIP & set(path.parts) and path.suffix != ".pyc":
                found.append(path)
    return sorted(found)


def release_name(source: Path) -> str:
    """The version and a digest of the source: the same source is the same release."""
    digest = hashlib.sha256()
    for path in _source_files(source):
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"{__version__}-{digest.hexdigest()[:12]}"


def is_complete(release: Path) -> bool:
    return (release / COMPLETE).is_file()


def current_release(opt: Path) -> str | None:
    link = opt / "current"
    return Path(os.readlink(link)).name if link.is_symlink() else None


def install_release(opt: Path, source: Path, *, reuse_deps: bool, wheels: Path | None) -> str:
    """Installs `source` as a release beside the others (an interrupted one is redone);
    returns its name. Does not switch `current`."""
    name = release_name(source)
    release = opt / "releases" / name
    if is_complete(release):
        return name
    if release.exists():
        shutil.rmtree(release)
    (release / "src").mkdir(parents=True)
    for path in _source_files(source):
        target = release / "src" / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    _make_venv(release, reuse_deps=reuse_deps, wheels=wheels)
    (release / COMPLETE).write_text(name + "\n", encoding="utf-8")
    return name


def _make_venv(release: Path, *, reuse_deps: bool, wheels: Path | None) -> None:
    venv = release / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    command = [base, "-m", "venv", "--system-site-packages"]
    if reuse_deps:
        command.append("--without-pip")
    _run([*command, str(venv)], "creating the virtual environment")
    python = venv / "bin" / "python"
    if reuse_deps:
        # The dependencies of the Python running provisioning, and this release's source.
        packages = Path(
            subprocess.check_output(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                text=True,
            ).strip()
        )
        # An `import` line in a .pth runs at start-up: put these first, so an older copy in
        # the system's dist-packages cannot shadow them.
        paths = [str(release / "src"), *site.getsitepackages()]
        (packages / "qr_terminal_release.pth").write_text(
            f"import sys; sys.path[0:0] = {paths!r}\n", encoding="utf-8"
        )
        launcher = venv / "bin" / "qr-terminal"
        launcher.write_text(
            f"#!{python}\nimport sys\nfrom terminal.cli import main\nsys.exit(main())\n"
        )
        launcher.chmod(0o755)
        return
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if wheels is not None:
        pip += ["--no-index", "--find-links", str(wheels)]
    _run([*pip, str(release / "src")], "installing the software and its dependencies")


def switch_current(opt: Path, name: str) -> bool:
    """Points `current` at releases/<name> (atomic rename of a new link); True if it moved."""
    return atomic_symlink(opt / "current", Path("releases") / name)


def _run(argv: list[str], what: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        tail = " / ".join((result.stderr or result.stdout).strip().splitlines()[-3:])
        raise ProvisionError(
            f"{what} failed: {tail}",
            "check the network (pip needs PyPI, or give --wheels DIR) and run again; the "
            "running release was not touched",
            f"{what} 실패",
            "네트워크를 확인하고 다시 실행하세요; 사용 중인 버전은 그대로입니다",
        )
