"""scripts/update in --root mode: a good release is switched to; a broken one is rolled back by
itself; the key, certificate and ledger are never touched; the same release twice is a no-op."""

from __future__ import annotations

import hashlib
import shutil
import time

import pytest

from terminal.cli import main
from terminal.ledger.health import check_database
from terminal.ledger.store import Ledger
from terminal.provision import software
from terminal.provision.layout import ProvisionedPaths, StateFiles
from terminal.signing import DeviceKey
from terminal.sim.platform.server import PlatformServer
from tests.conftest import REPO
from tests.ledger.helpers import T0, sale
from tests.provision.test_provision_root import provision


def copy_source(target, change: str, path: str = "terminal/provision/__init__.py"):
    """A copy of this tree with one file changed: another release."""
    for part in software.PARTS:
        shutil.copytree(
            REPO / part, target / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    for name in software.FILES:
        shutil.copy2(REPO / name, target / name)
    edited = target / path
    edited.write_text(edited.read_text() + change)
    return target


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    with PlatformServer(tmp_path_factory.mktemp("platform")) as server:
        assert main(provision(server, root, "--code", server.new_code())) == 0
        files = StateFiles.from_paths(ProvisionedPaths(), root)
        device_id = (files.enrollment.read_text().split('"device_id": "')[1]).split('"')[0]
        ledger = Ledger(files.database, DeviceKey.load(files.key), device_id)
        sale(ledger, 4000, (int(time.time() * 1000) - T0) // 1000)
        ledger.close()
        yield root, files


def update(root, source, *extra):
    return main(
        [
            "maintain",
            "update",
            "--root",
            str(root),
            "--source",
            str(source),
            "--reuse-deps",
            "--timeout",
            "120",
            *extra,
        ]
    )


def protected(files) -> dict[str, str]:
    return {p.name: digest(p) for p in (files.key, files.cert, files.database)}


def test_good_release_is_switched_to(tree, tmp_path, capsys):
    root, files = tree
    before, opt = protected(files), root / "opt/qr-terminal"
    previous = software.current_release(opt)
    source = copy_source(tmp_path / "v2", "\n# release two\n")
    assert update(root, source) == 0
    out = capsys.readouterr().out
    assert software.current_release(opt) == software.release_name(source) != previous
    assert "완료 / done" in out and "(--root: not run) timeout" in out
    assert (opt / "releases" / previous).is_dir()  # kept for a rollback
    assert protected(files) == before
    assert check_database(files.database).last_seq == 1
    # The same release again: nothing to do.
    assert update(root, source) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_broken_release_is_rolled_back(tree, tmp_path, capsys):
    root, files = tree
    before, opt = protected(files), root / "opt/qr-terminal"
    previous = software.current_release(opt)
    broken = copy_source(
        tmp_path / "broken",
        "\nraise RuntimeError('broken release')\n",
        "terminal/selftest/runner.py",
    )
    assert update(root, broken) == 1
    out = capsys.readouterr().out
    assert "되돌림 / rolling back" in out and "broken release" in out
    assert software.current_release(opt) == previous
    assert f"{previous} runs again" in out
    assert protected(files) == before


def test_update_needs_a_provisioned_tree(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert update(empty, REPO) == 2
    assert "scripts/provision" in capsys.readouterr().err
    assert list(empty.iterdir()) == []
