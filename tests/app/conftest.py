"""Fixtures shared by the app tests."""

from __future__ import annotations

import pytest

from terminal.demo.day import Day
from terminal.demo.world import open_world


@pytest.fixture
def day(tmp_path):
    """The demo's world (simulator over mTLS, enrolled app, live camera, wallet), quiet, online
    with a trusted clock; driven through terminal.demo.day.Day's helpers."""
    world = open_world(tmp_path / "demo", headless=True)
    day = Day(world, say=lambda _text: None)
    day.until(lambda s: s.ctx.status.online and s.ctx.status.clock_trusted, "online")
    try:
        yield day
    finally:
        world.close()
