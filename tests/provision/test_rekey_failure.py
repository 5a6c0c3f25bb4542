"""`--rekey` never leaves the device without a key: the old identity is moved aside only once
every file of the new one is staged, and a failure before that changes nothing (review #6)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from terminal.cli import main
from terminal.signing import DeviceKey
from terminal.sim.platform.server import PlatformServer
from tests.provision.test_provision_root import provision


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with PlatformServer(tmp_path_factory.mktemp("platform")) as running:
        yield running


def test_a_full_disk_while_staging_the_new_key_keeps_the_old_identity(
    server, tmp_path, monkeypatch, capsys
):
    root = tmp_path / "rekey"
    root.mkdir()
    assert main(provision(server, root, "--code", server.new_code())) == 0
    state = root / "var/lib/qr-terminal"
    (state / "terminal.db").write_bytes(b"old ledger")
    before = {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()}
    capsys.readouterr()

    def disk_full(self, path: Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(DeviceKey, "save", disk_full)
    assert main(provision(server, root, "--rekey", "--code", server.new_code())) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "No space left" in out
    after = {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()}
    assert after == before  # old key, certificate, enrollment and ledger all in place
    assert not list(state.glob("retired-*"))
    assert not list(state.parent.glob(".qr-terminal-staging-*"))


def test_a_failure_while_moving_in_keeps_the_new_key_staged(server, tmp_path, monkeypatch, capsys):
    root = tmp_path / "rekey-move"
    root.mkdir()
    assert main(provision(server, root, "--code", server.new_code())) == 0
    state = root / "var/lib/qr-terminal"
    capsys.readouterr()
    real_replace = os.replace

    def fail_on_the_certificate(source, target, *args, **kwargs):
        if Path(target) == state / "device-cert.pem" and ".qr-terminal-staging-" in str(source):
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(target))
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", fail_on_the_certificate)
    assert main(provision(server, root, "--rekey", "--code", server.new_code())) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out
    # The new key reached the state directory, and what did not move in is kept, not deleted.
    assert (state / "device-key.pem").is_file()
    [staging] = state.parent.glob(".qr-terminal-staging-*")
    assert (staging / "device-cert.pem").is_file()
    assert str(staging) in out
