"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# Deterministic property tests (the same examples every run) with no per-example deadline: a
# busy CI machine must not turn a slow example into a failure.
settings.register_profile("project", deadline=None, derandomize=True)
settings.load_profile("project")

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DATA = REPO / "tests" / "data"


@pytest.fixture
def config_dir() -> Path:
    return REPO / "firmware_config"


def _on_raspberry_pi() -> bool:
    model = Path("/proc/device-tree/model")
    return model.exists() and "Raspberry Pi" in model.read_text(errors="replace")


def pytest_collection_modifyitems(config, items):
    """Hardware tests run only on a Pi (or with QR_TERMINAL_HARDWARE=1); skipped elsewhere."""
    import os

    if _on_raspberry_pi() or os.environ.get("QR_TERMINAL_HARDWARE") == "1":
        return
    skip = pytest.mark.skip(reason="needs Raspberry Pi hardware (set QR_TERMINAL_HARDWARE=1)")
    for item in items:
        if "hardware" in item.keywords:
            item.add_marker(skip)
