"""Fixtures: one real platform simulator per test module (HTTPS + mTLS on 127.0.0.1)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from terminal.sim.platform.server import PlatformServer

    with PlatformServer(tmp_path_factory.mktemp("platform")) as running:
        yield running
        running.faults.clear()
    assert running.errors == [], running.errors  # no handler crash, no answer outside the spec


@pytest.fixture
def device(server, tmp_path):
    from tests.sync.realserver import enroll_device

    return enroll_device(server, tmp_path / "device")
