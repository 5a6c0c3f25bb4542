"""Capped exponential backoff with full jitter, and the clock the sync waits on (injectable)."""

from __future__ import annotations

import random as random_module
import threading
import time
from dataclasses import dataclass, field


class Backoff:
    """Delay before the n-th consecutive retry: uniform in [0, min(cap, initial·2ⁿ)] ("full
    jitter": a fleet that lost the network together does not come back in lockstep), but never
    shorter than what the platform asked for in Retry-After."""

    def __init__(self, initial: float, cap: float, rng: random_module.Random | None = None):
        if initial <= 0 or cap < initial:
            raise ValueError(f"backoff needs 0 < initial ≤ cap, got {initial}, {cap}")
        self.initial, self.cap = initial, cap
        self.rng = rng or random_module.Random()
        self.failures = 0

    def next_delay(self, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.initial * 2 ** min(self.failures, 62))
        self.failures += 1
        delay = self.rng.uniform(0, ceiling)
        return max(delay, retry_after) if retry_after is not None else delay

    def reset(self) -> None:
        self.failures = 0


class SystemClock:
    """Wall time for records and status, monotonic time for intervals, and real waiting."""

    def wall_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Waits up to `seconds` or until `event` is set; True when it was set."""
        return event.wait(max(seconds, 0.0))


@dataclass
class ManualClock:
    """A clock that only moves when told to, or when something waits on it: a wait of n
    seconds returns at once with the time n seconds later (unless the event is already set).
    For tests and simulated partitions of days."""

    now: float = 1_795_000_000.0
    waits: list[float] = field(default_factory=list)

    def wall_ms(self) -> int:
        return int(self.now * 1000)

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def wait(self, event: threading.Event, seconds: float) -> bool:
        self.waits.append(seconds)
        if event.is_set():
            return True
        self.now += max(seconds, 0.0)
        return False
