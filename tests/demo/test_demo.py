"""`qr-terminal demo`: the real app, the platform simulator over HTTPS + mTLS and the simulated
customer play a day end to end; `--interactive` runs in a real window under Xvfb, driven by
keys typed into the X server (xdotool)."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time

import pytest

from terminal.cli import main
from tests.hw.xserver import have_xvfb, xvfb


def test_a_short_day_end_to_end(tmp_path, capsys, monkeypatch):
    workdir = tmp_path / "demo"
    monkeypatch.chdir(tmp_path)  # a relative --workdir: the frames still land in it
    assert main(["demo", "--headless", "--workdir", "demo", "--sales", "4"]) == 0
    out = capsys.readouterr().out
    assert "approved online" in out and "approved offline" in out
    assert "MPM offline: the terminal read the app's signed receipt" in out
    assert "[barcode_online_only]" in out  # the refusal, with the shopkeeper's message
    assert "refund of 2,000원" in out and "day closed: 10 sales" in out
    assert "the platform holds exactly the journal's 12 records" in out
    assert "journal exported and verified" in out
    frames = sorted((workdir / "frames").glob("*.png"))
    assert len(frames) >= 20  # every step left a picture
    assert (workdir / "terminal" / "device-key.pem").stat().st_mode & 0o777 == 0o600


def test_a_used_workdir_is_refused_and_left_alone(tmp_path, capsys):
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    assert main(["demo", "--headless", "--workdir", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"] and keep.read_text() == "mine"


class Lines:
    """A process's stdout lines, read on a thread, waited for with a deadline."""

    def __init__(self, process: subprocess.Popen):
        self.seen: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, args=(process.stdout,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, fragment: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if fragment in line:
                return line
        raise AssertionError(f"{fragment!r} not printed; saw:\n{''.join(self.seen)}")


@pytest.mark.skipif(
    not have_xvfb() or shutil.which("xdotool") is None,
    reason="needs Xvfb and xdotool (apt-get install xvfb xdotool; scripts/setup does it)",
)
def test_interactive_demo_in_a_window_typed_at(tmp_path):
    with xvfb() as display:
        env = {**os.environ, "DISPLAY": display, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "terminal.cli", "demo", "--interactive",
                   "--workdir", str(tmp_path / "demo")]  # fmt: skip
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        lines = Lines(process)

        def keys(*names: str) -> None:
            subprocess.run(["xdotool", "key", "--delay", "30", *names], env=env, check=True)

        try:
            lines.wait_for("customer keys:")
            keys("8", "0", "0", "0", "Return")  # the shopkeeper types 8,000 and Enter
            # The customer pays the QR on the screen (retried: the QR may still be on its way).
            for _ in range(20):
                keys("p")
                if "paid the QR" in lines.wait_for("the customer", timeout=30):
                    break
            lines.wait_for("approved 8,000원 online (seq 1)")
            keys("Return", "x")
            lines.wait_for("shuts down cleanly")
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_a_demo_that_cannot_set_up_says_so_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    """Hostile test M5: on a full disk the demo ended in a traceback and left its folder."""
    import sqlite3

    import terminal.demo.world as world

    def full_disk(*_args, **_kwargs):
        (tmp_path / "demo" / "platform").mkdir(parents=True)  # half-made, as a full disk leaves
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(world, "open_world", full_disk)
    assert main(["demo", "--headless", "--workdir", str(tmp_path / "demo")]) == 2
    err = capsys.readouterr().err
    assert "cannot set up the demo there" in err and "disk is full" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "demo").exists()


def test_a_workdir_with_a_control_character_is_refused_unmade(tmp_path, capsys):
    """Hostile review 2 L1: the message blamed an 'empty path' and the folder stayed."""
    assert main(["demo", "--headless", "--workdir", str(tmp_path / "a\nb")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "control character" in err
    assert list(tmp_path.iterdir()) == []


def test_a_disk_that_fills_during_the_day_is_one_line_naming_the_workdir(
    tmp_path, capsys, monkeypatch
):
    """Hostile review 2 L3: 'error: (input): no space left…', and the folder stayed."""
    import errno

    from terminal.demo.day import Day

    def full_disk(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as PIL's PNG save raises it

    monkeypatch.setattr(Day, "play", full_disk)
    workdir = tmp_path / "demo"
    assert main(["demo", "--headless", "--workdir", str(workdir)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "(input)" not in err
    assert f"--workdir {workdir}" in err and "no space" in err
    assert not workdir.exists()
