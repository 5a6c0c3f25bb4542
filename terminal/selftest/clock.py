"""Is the system clock synchronised? Asked of systemd-timesyncd's flag file, then of the kernel
(adjtimex with no changes: the same answer `timedatectl` gives for any NTP daemon)."""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")
TIME_ERROR = 5  # adjtimex's answer while the kernel marks the clock unsynchronised
_TIMEX_BYTES = 512  # larger than struct timex on every architecture; zeroed = read only


def ntp_synchronised(flag: Path = TIMESYNC_FLAG) -> bool | None:
    """True / False, or None when neither source can tell (a sandbox without adjtimex)."""
    if flag.exists():
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        buffer = ctypes.create_string_buffer(_TIMEX_BYTES)
        state = libc.adjtimex(buffer)
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != TIME_ERROR
