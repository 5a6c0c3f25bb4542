"""The recording feedback: remembers every signal played, with the caller's time, and the steps
its pattern has, so tests and the headless kit can assert on what the shop would have heard."""

from __future__ import annotations

from terminal.hw.device import DeviceCheck
from terminal.hw.feedback import Signal, Step, patterns


class RecordingFeedback:
    name = "record"

    def __init__(self, beep_ok_ms: int = 120, beep_error_ms: int = 600, key_click: bool = True):
        self.patterns = patterns(beep_ok_ms, beep_error_ms)
        self.key_click = key_click
        self.played: list[Signal] = []

    def play(self, signal: Signal) -> None:
        if signal is Signal.KEY_CLICK and not self.key_click:
            return
        self.played.append(signal)

    def steps_played(self) -> list[Step]:
        return [step for signal in self.played for step in self.patterns[signal]]

    def check(self) -> DeviceCheck:
        return DeviceCheck("feedback", self.name, "memory", {"played": str(len(self.played))})

    def close(self) -> None:
        """Nothing to release; the record stays readable."""
