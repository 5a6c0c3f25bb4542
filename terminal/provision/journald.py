"""Log lines the way journald wants them from a service: under systemd (stderr connected to the
journal, $JOURNAL_STREAM set) each line starts with its syslog priority (`<3>` error, `<4>`
warning, `<6>` info, `<7>` debug; the units set SyslogLevelPrefix=yes) and carries no time
stamp (the journal has one); elsewhere, the usual time-stamped lines."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


def syslog_priority(levelno: int) -> int:
    """The syslog priority of a logging level (levels between two take the more urgent)."""
    for level in sorted(_PRIORITY, reverse=True):
        if levelno >= level:
            return _PRIORITY[level]
    return 7


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prefix = f"<{syslog_priority(record.levelno)}>"
        # A traceback spans lines: each gets the prefix, or journald files it as info.
        return "\n".join(prefix + line for line in text.splitlines())


def under_journald(env: Mapping[str, str] | None = None) -> bool:
    """True when stderr is the journal stream systemd gave us (not a terminal or a file)."""
    env = os.environ if env is None else env
    stream = env.get("JOURNAL_STREAM", "")
    if ":" not in stream:
        return False
    try:
        info = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError):
        return False
    device, inode = stream.split(":", 1)
    return f"{info.st_dev}:{info.st_ino}" == f"{device}:{inode}"


def configure_logging(level: int = logging.INFO, *, journal: bool | None = None) -> None:
    """The root logger writes to stderr: priority-prefixed under journald, else time-stamped."""
    handler = logging.StreamHandler(sys.stderr)
    if under_journald() if journal is None else journal:
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
