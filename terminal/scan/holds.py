"""Deduplication: a code held in front of the camera is reported once per hold, not per frame."""

from __future__ import annotations

from terminal.scan.decoders import Decoded


class HoldTracker:
    """Remembers when each code was last seen; a code is new when unseen for `release_ms`.

    Time is passed in (frame timestamps in milliseconds), so the tracker is deterministic.
    """

    def __init__(self, release_ms: int):
        if release_ms <= 0:
            raise ValueError(f"release_ms must be positive, got {release_ms}")
        self.release_ms = release_ms
        self._last_seen: dict[Decoded, int] = {}

    def update(self, codes: list[Decoded], now_ms: int) -> list[Decoded]:
        """The codes in this frame that start a new hold."""
        fresh = [
            code
            for code in codes
            if now_ms - self._last_seen.get(code, -(10**18)) > self.release_ms
        ]
        for code in codes:
            self._last_seen[code] = now_ms
        # Forget codes gone for longer than the release time: memory stays bounded.
        self._last_seen = {
            code: seen for code, seen in self._last_seen.items() if now_ms - seen <= self.release_ms
        }
        return fresh
