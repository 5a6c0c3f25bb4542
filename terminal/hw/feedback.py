"""The feedback interface (buzzer and LEDs) and its tone patterns: success is a short double
beep with green, refusal a long beep with red, a key press a short click. Backends:
gpio_feedback.py and the recording fake in sim/."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from terminal.hw.device import DeviceCheck


class Signal(enum.Enum):
    SUCCESS = "success"
    REFUSAL = "refusal"
    KEY_CLICK = "key"


@dataclass(frozen=True)
class Step:
    """Hold this for `seconds`: buzzer sounding or not; lights "green", "red", "off", or None
    to leave them as they are (a key click does not touch the LEDs)."""

    seconds: float
    buzzer: bool
    light: str | None = None


LIGHT_HOLD_SECONDS = 1.5  # how long the result colour stays after the beeps
CLICK_SECONDS = 0.015


def patterns(beep_ok_ms: int, beep_error_ms: int) -> dict[Signal, tuple[Step, ...]]:
    """Each signal's steps from [sound] beep_ok_ms and beep_error_ms."""
    ok, error = beep_ok_ms / 1000, beep_error_ms / 1000
    return {
        Signal.SUCCESS: (
            Step(ok, True, "green"),
            Step(ok, False, "green"),
            Step(ok, True, "green"),
            Step(LIGHT_HOLD_SECONDS, False, "green"),
            Step(0, False, "off"),
        ),
        Signal.REFUSAL: (
            Step(error, True, "red"),
            Step(LIGHT_HOLD_SECONDS, False, "red"),
            Step(0, False, "off"),
        ),
        Signal.KEY_CLICK: (Step(CLICK_SECONDS, True), Step(0, False)),
    }


class Feedback(Protocol):
    name: str

    def play(self, signal: Signal) -> None:
        """Starts the signal's pattern and returns at once; a success or refusal replaces one
        still playing; a key click during another pattern is dropped."""

    def check(self) -> DeviceCheck: ...
    def close(self) -> None: ...
