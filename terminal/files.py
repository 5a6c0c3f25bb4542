"""Reading files a user names: regular files only (a fifo would block, a device like /dev/zero
never ends) and no more than a stated size, each refusal an OSError naming the file."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotAFileError(OSError):
    """The path exists but is a fifo, a device, a socket or a directory: not a file to read or
    to write over."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a fifo"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def require_regular(path: Path, what: str = "file") -> os.stat_result:
    """The file's stat if `path` is a regular file (through links); else NotAFileError.
    A missing file raises FileNotFoundError as usual."""
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise NotAFileError(
            errno.EINVAL, f"is {_kind(info.st_mode)}, not a {what}; give a regular file", str(path)
        )
    return info


def refuse_non_regular_target(path: Path) -> None:
    """An output path may be new or an existing regular file, never a device or fifo (writing
    "over" /dev/full as root would replace the device node)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return  # a dangling link: the caller decides about links
    if not stat.S_ISREG(info.st_mode):
        raise NotAFileError(
            errno.EINVAL, f"is {_kind(info.st_mode)}; give a regular file to write", str(path)
        )


def read_bounded(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most `limit` bytes."""
    require_regular(path, what)
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise NotAFileError(errno.EFBIG, f"is over {limit:,} bytes; not a {what}", str(path))
    return data
