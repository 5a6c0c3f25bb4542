"""The one crash-safe writer of provisioning (review #12): whole data even when os.write is
short, the asked mode whatever the umask, no temporary left behind on failure, and a backup
that is a second name for the old file, never the old file moved away."""

from __future__ import annotations

import os

import pytest

from terminal.provision import files
from terminal.provision.files import atomic_symlink, atomic_write, write_new


def test_short_writes_are_continued(tmp_path, monkeypatch):
    real_write = os.write

    def three_bytes_at_a_time(descriptor, data):
        return real_write(descriptor, bytes(data[:3]))

    monkeypatch.setattr(os, "write", three_bytes_at_a_time)
    atomic_write(tmp_path / "a", b"0123456789" * 10)
    write_new(tmp_path / "b", b"abcdefghij")
    assert (tmp_path / "a").read_bytes() == b"0123456789" * 10
    assert (tmp_path / "b").read_bytes() == b"abcdefghij"


def test_the_mode_is_the_one_asked_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        atomic_write(tmp_path / "unit", b"x", 0o644)
    finally:
        os.umask(old)
    assert (tmp_path / "unit").stat().st_mode & 0o777 == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "cert.pem"
    target.write_bytes(b"old")

    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        atomic_write(target, b"new", keep_backup=True)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["cert.pem"]


def test_the_backup_is_a_second_name_not_a_move(tmp_path):
    target = tmp_path / "device.toml"
    target.write_bytes(b"old")
    inode = target.stat().st_ino
    atomic_write(target, b"new", 0o640, keep_backup=True)
    backup = tmp_path / "device.toml.bak"
    assert backup.read_bytes() == b"old" and backup.stat().st_ino == inode
    atomic_write(target, b"newer", 0o640, keep_backup=True)
    assert backup.read_bytes() == b"new"


def test_write_new_never_overwrites_or_follows_a_link(tmp_path):
    (tmp_path / "elsewhere").write_bytes(b"keep")
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileExistsError):
        write_new(tmp_path / "link", b"x")
    assert (tmp_path / "elsewhere").read_bytes() == b"keep"


def test_a_symlink_is_swapped_in_one_rename(tmp_path, monkeypatch):
    link = tmp_path / "bin" / "current"
    assert atomic_symlink(link, tmp_path / "r1") is True
    assert atomic_symlink(link, tmp_path / "r1") is False
    synced = []
    monkeypatch.setattr(files, "fsync_directory", synced.append)
    assert atomic_symlink(link, tmp_path / "r2") is True
    assert os.readlink(link) == str(tmp_path / "r2")
    assert synced == [link.parent]
    assert sorted(p.name for p in link.parent.iterdir()) == ["current"]
