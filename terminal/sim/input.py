"""The scripted key input: a list of (seconds, key) played against the caller's clock, from the
first poll on. For tests and demos; also `input.backend = "script"` with a file of lines."""

from __future__ import annotations

from pathlib import Path

from terminal.core.keys import Key, KeyEvent, UnknownKey, parse_key
from terminal.hw.device import DeviceCheck, DeviceUnavailable
from terminal.hw.layout import TouchTarget, hit


def parse_script(text: str, origin: str = "script") -> list[tuple[float, Key]]:
    """Lines "SECONDS KEY" (blank lines and # comments skipped), times not decreasing."""
    steps: list[tuple[float, Key]] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError("want SECONDS KEY")
            at, key = float(parts[0]), parse_key(parts[1])
        except (ValueError, UnknownKey) as error:
            raise DeviceUnavailable(f"{origin} line {number}: {line!r}: {error}") from None
        if at < 0 or (steps and at < steps[-1][0]):
            raise DeviceUnavailable(f"{origin} line {number}: times must not go backwards")
        steps.append((at, key))
    return steps


class ScriptedInput:
    name = "script"

    def __init__(self, steps: list[tuple[float, Key]], origin: str = "memory"):
        self.steps, self.origin = list(steps), origin
        self.targets: tuple[TouchTarget, ...] = ()
        self._start: float | None = None
        self._next = 0
        self._taps: list[tuple[int, int]] = []

    @classmethod
    def from_file(cls, path: Path) -> ScriptedInput:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeError) as error:
            raise DeviceUnavailable(f"input.script = {str(path)!r}: {error}") from None
        return cls(parse_script(text, str(path)), str(path))

    def tap(self, x: int, y: int) -> None:
        """A finger on the canvas at (x, y), delivered on the next poll as the key drawn there."""
        self._taps.append((x, y))

    @property
    def done(self) -> bool:
        return self._next >= len(self.steps) and not self._taps

    def events(self, now: float) -> list[KeyEvent]:
        if self._start is None:
            self._start = now
        events = []
        while self._next < len(self.steps) and self.steps[self._next][0] <= now - self._start:
            events.append(KeyEvent(self.steps[self._next][1], now, "script"))
            self._next += 1
        for x, y in self._taps:
            key = hit(self.targets, x, y)
            if key is not None:
                events.append(KeyEvent(key, now, "script"))
        self._taps.clear()
        return events

    def set_targets(self, targets: tuple[TouchTarget, ...]) -> None:
        self.targets = tuple(targets)

    def check(self) -> DeviceCheck:
        return DeviceCheck(
            "input",
            self.name,
            self.origin,
            {"steps": str(len(self.steps)), "played": str(self._next)},
        )

    def close(self) -> None:
        """Nothing to release."""
