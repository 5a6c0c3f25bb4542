"""The key input interface: any device (keypad, touch, buttons, window, script) reports the
terminal's keys (terminal.core.keys). Polled by the app loop: events() never blocks, so one loop
serves several devices and tests need no threads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from terminal.core.keys import Key, KeyEvent, UnknownKey, parse_key
from terminal.hw.device import DeviceCheck, DeviceUnavailable
from terminal.hw.layout import TouchTarget


class KeyInput(Protocol):
    name: str

    def events(self, now: float) -> list[KeyEvent]:
        """Keys pressed since the last call, stamped `now` (the caller's monotonic clock)."""

    def set_targets(self, targets: tuple[TouchTarget, ...]) -> None:
        """The current screen's on-screen keys (used by touch and the window's mouse)."""

    def check(self) -> DeviceCheck: ...
    def close(self) -> None: ...


def parse_pairs(pairs: Iterable[str], setting: str) -> list[tuple[str, Key]]:
    """Parses "NAME=KEY" texts from configuration; a bad one raises DeviceUnavailable naming the
    setting and the pair."""
    parsed = []
    for pair in pairs:
        name, sep, key_name = pair.partition("=")
        if not sep or not name.strip():
            raise DeviceUnavailable(f"{setting}: {pair!r} is not NAME=KEY (e.g. 'KEY_F5=menu')")
        try:
            parsed.append((name.strip(), parse_key(key_name)))
        except UnknownKey as error:
            raise DeviceUnavailable(f"{setting}: {pair!r}: {error}") from None
    return parsed


def parse_key_list(names: Iterable[str], setting: str) -> list[Key]:
    try:
        return [parse_key(name) for name in names]
    except UnknownKey as error:
        raise DeviceUnavailable(f"{setting}: {error}") from None


class MergedInput:
    """Several inputs as one (a USB keypad beside GPIO buttons, touch beside a keypad)."""

    name = "merged"

    def __init__(self, inputs: Iterable[KeyInput]):
        self.inputs = list(inputs)

    def events(self, now: float) -> list[KeyEvent]:
        return [event for source in self.inputs for event in source.events(now)]

    def set_targets(self, targets: tuple[TouchTarget, ...]) -> None:
        for source in self.inputs:
            source.set_targets(targets)

    def check(self) -> DeviceCheck:
        checks = [source.check() for source in self.inputs]
        problems = [c.problem for c in checks if c.problem]
        return DeviceCheck(
            "input",
            self.name,
            "+".join(c.backend for c in checks),
            {c.backend: c.device for c in checks},
            "; ".join(problems) or None,
        )

    def close(self) -> None:
        for source in self.inputs:
            source.close()


def describe_map(mapping: Mapping[object, Key]) -> str:
    return ", ".join(f"{name}={key.value}" for name, key in mapping.items())
