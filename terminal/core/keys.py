"""The terminal's key vocabulary: what every input device (keypad, touch, window, script) reports.

Pure: no I/O. Input adapters in terminal/hw translate their device's codes into `Key`; the
session state machine in terminal/core/session consumes `KeyEvent`s and never sees a device.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Key(enum.Enum):
    """One key press. Values are the names used in configuration key maps and test scripts."""

    D0 = "0"
    D1 = "1"
    D2 = "2"
    D3 = "3"
    D4 = "4"
    D5 = "5"
    D6 = "6"
    D7 = "7"
    D8 = "8"
    D9 = "9"
    DOUBLE_ZERO = "00"  # Korean keypads carry it: amounts in won end in zeros
    BACKSPACE = "backspace"
    CLEAR = "clear"
    ENTER = "enter"
    CANCEL = "cancel"
    MENU = "menu"
    PLUS = "plus"
    F1 = "F1"
    F2 = "F2"
    F3 = "F3"
    F4 = "F4"

    @property
    def digit(self) -> str | None:
        """The digits this key types into an amount ("00" types two), or None."""
        return self.value if self.value.isdigit() else None


DIGITS = tuple(Key(str(n)) for n in range(10))
FUNCTION_KEYS = (Key.F1, Key.F2, Key.F3, Key.F4)


class UnknownKey(ValueError):
    """A key name that is not in the vocabulary (from configuration or a test script)."""


def parse_key(name: str) -> Key:
    """The key a configuration or script names ("7", "00", "enter", "F2"); case-insensitive for
    words. Raises UnknownKey naming the bad name and the valid ones."""
    text = str(name).strip()
    for key in Key:
        if text == key.value or text.lower() == key.value.lower():
            return key
    valid = ", ".join(k.value for k in Key)
    raise UnknownKey(f"unknown key {name!r}; valid keys: {valid}")


@dataclass(frozen=True)
class KeyEvent:
    """A key press at `at` seconds on the caller's monotonic clock (passed in, never read here).

    `source` names the device kind that produced it ("keypad", "touch", "window", "gpio",
    "script") so a session can log it; it never changes what the key means."""

    key: Key
    at: float
    source: str = ""
