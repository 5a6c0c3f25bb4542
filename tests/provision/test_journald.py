"""Log lines for journald: the syslog priority prefix on every line (tracebacks included) under
systemd's journal stream, plain time-stamped lines elsewhere; checked in a child process whose
stderr is a file, as systemd's stream would be."""

from __future__ import annotations

import os
import subprocess
import sys

from terminal.provision.journald import syslog_priority

CHILD = """
import logging
from terminal.provision.journald import configure_logging
configure_logging(logging.DEBUG)
log = logging.getLogger("qr")
log.debug("d"); log.info("i"); log.warning("w"); log.error("e"); log.critical("c")
try:
    1 / 0
except ZeroDivisionError:
    log.exception("boom")
"""


def run_child(tmp_path, journal_stream: bool) -> list[str]:
    err = tmp_path / "stderr.txt"
    with err.open("wb") as handle:
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        if journal_stream:
            info = os.fstat(handle.fileno())
            env["JOURNAL_STREAM"] = f"{info.st_dev}:{info.st_ino}"
        subprocess.run([sys.executable, "-c", CHILD], stderr=handle, env=env, check=True)
    return err.read_text().splitlines()


def test_priorities_prefix_every_line_under_journald(tmp_path):
    lines = run_child(tmp_path, journal_stream=True)
    assert lines[:5] == ["<7>qr: d", "<6>qr: i", "<4>qr: w", "<3>qr: e", "<2>qr: c"]
    traceback = lines[5:]
    assert traceback[0] == "<3>qr: boom"
    assert len(traceback) > 2 and all(line.startswith("<3>") for line in traceback)


def test_plain_lines_elsewhere(tmp_path):
    lines = run_child(tmp_path, journal_stream=False)
    assert not any(line.startswith("<") for line in lines)
    assert " ERROR qr: e" in lines[3]


def test_levels_between_take_the_more_urgent_priority():
    assert syslog_priority(35) == 4  # between WARNING and ERROR
    assert syslog_priority(5) == 7
