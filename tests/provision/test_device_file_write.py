"""Rewriting /etc/qr-terminal/device.toml survives a crash at any point: the new bytes are synced
before the rename, the directory after it, and the backup is a copy, so the old file stays in
place until the new one replaces it (review #5)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from terminal.provision import config_step

OLD = '[device]\nid = "T-OLD"\n'
NEW = '[device]\nid = "T-NEW"\n'


class PowerCut(Exception):
    pass


def test_a_crash_before_the_new_file_lands_leaves_the_old_one(tmp_path, monkeypatch):
    device = tmp_path / "device.toml"
    device.write_text(OLD)
    real_replace = os.replace

    def cut_at_the_final_rename(source, target, *args, **kwargs):
        if Path(target) == device:
            raise PowerCut()
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", cut_at_the_final_rename)
    with pytest.raises(PowerCut):
        config_step._write_if_different(device, NEW, mode=0o640)
    assert device.read_text() == OLD
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "device.toml.bak") == [
        "device.toml"
    ]  # no temporary left behind


def test_new_bytes_and_the_directory_are_synced_and_the_old_file_is_kept(tmp_path, monkeypatch):
    device = tmp_path / "device.toml"
    device.write_text(OLD)
    synced: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def noting_fsync(descriptor):
        where = os.readlink(f"/proc/self/fd/{descriptor}")
        synced.append((where, device.read_text() == OLD))
        return real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", noting_fsync)
    assert config_step._write_if_different(device, NEW, mode=0o640) is True
    assert device.read_text() == NEW
    assert device.stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "device.toml.bak").read_text() == OLD
    # The temporary file was synced while device.toml still held the old text; then the folder.
    file_syncs = [s for s in synced if s[0].startswith(str(tmp_path / ".device.toml"))]
    assert file_syncs and all(old_still_there for _, old_still_there in file_syncs)
    assert synced[-1] == (str(tmp_path), False)
    assert config_step._write_if_different(device, NEW, mode=0o640) is False


def test_a_first_write_makes_the_folder_and_no_backup(tmp_path):
    device = tmp_path / "etc" / "device.toml"
    assert config_step._write_if_different(device, NEW, mode=0o640) is True
    assert device.read_text() == NEW
    assert not (device.parent / "device.toml.bak").exists()
