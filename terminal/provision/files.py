"""Crash-safe file writing for provisioning and maintenance: a new file's bytes reach the disk
before its name does, so a power cut leaves the old file or the new one, never neither."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def write_all(descriptor: int, data: bytes) -> None:
    """os.write may write less than asked (a full disk, a signal): loop until all is out."""
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


def fsync_directory(path: Path) -> None:
    """A rename is durable only once the directory holding it is on disk."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_new(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Creates `path` (it must not exist: O_EXCL, never through a link) with its data synced."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        write_all(descriptor, data)
        os.fchmod(descriptor, mode)  # the umask may have taken bits `mode` asks for
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_write(path: Path, data: bytes, mode: int = 0o600, *, keep_backup: bool = False) -> None:
    """Replaces `path` with `data`: a temporary file in the same directory, written, synced and
    given `mode`, then renamed over `path`, then the directory synced. With `keep_backup` the
    old file is first linked (or copied) to `path.bak`: the only copy is never moved away."""
    path = Path(path)
    descriptor, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    temporary = Path(name)
    try:
        try:
            write_all(descriptor, data)
            os.fchmod(descriptor, mode)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if keep_backup and path.is_file():
            _backup(path)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def create_new(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Creates `path` whole or not at all, and never over an existing file (FileExistsError):
    the data is written and synced under a temporary name, then linked to `path`."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write_new(temporary, data, mode)
    try:
        os.link(temporary, path)  # fails if `path` exists: no check-then-write race
    finally:
        temporary.unlink(missing_ok=True)
    fsync_directory(path.parent)


def _backup(path: Path) -> None:
    backup = path.with_name(path.name + ".bak")
    backup.unlink(missing_ok=True)
    try:
        os.link(path, backup)  # a second name for the same data: nothing is copied or moved
    except OSError:  # a file system without hard links
        shutil.copy2(path, backup)


def atomic_symlink(link: Path, target: Path) -> bool:
    """Points `link` at `target` by renaming a new link over it; True if it changed."""
    if link.is_symlink() and Path(os.readlink(link)) == Path(target):
        return False
    link.parent.mkdir(parents=True, exist_ok=True)
    temporary = link.with_name(f".{link.name}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(target)
    try:
        os.replace(temporary, link)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_directory(link.parent)
    return True
