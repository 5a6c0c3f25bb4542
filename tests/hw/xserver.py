"""A real X server for tests: Xvfb on a display number it picks itself (-displayfd), so parallel
runs never collide and readiness is an event (the number arrives), not a sleep."""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager


@contextmanager
def xvfb(width: int = 1024, height: int = 768):
    """Yields the display name (":N") of a fresh Xvfb; stops it afterwards."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            f"{width}x{height}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as pipe:
            number = pipe.readline().strip()  # written once the server accepts clients
        if not number:
            raise RuntimeError(f"Xvfb exited with {server.wait(timeout=10)} before it was ready")
        yield f":{number.decode()}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def have_xvfb() -> bool:
    return shutil.which("Xvfb") is not None
