"""The platform's clock: the wall clock (or a test's), plus the skew a fault may inject."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable


class Clock:
    """Unix milliseconds as the platform believes them."""

    def __init__(self, source: Callable[[], float] = time.time):
        self._source = source
        self.skew_ms = 0  # set by the clock_skew fault; read on every call

    def now_ms(self) -> int:
        return int(self._source() * 1000) + self.skew_ms

    def now_s(self) -> int:
        return self.now_ms() // 1000

    def now_datetime(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.now_ms() / 1000, datetime.UTC)
