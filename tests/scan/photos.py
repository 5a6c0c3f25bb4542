"""Where the scanning tests find the real photographs, and the skip when a clone has none."""

from __future__ import annotations

import pytest

from tests.conftest import SHARED

PHOTOS = SHARED / "data" / "qr-photos"

needs_photos = pytest.mark.skipif(
    not PHOTOS.is_dir(),
    reason=(
        f"needs the real photographs in {PHOTOS} (../shared/data/qr-photos beside the "
        "repository: CI has them, a plain clone does not)"
    ),
)
