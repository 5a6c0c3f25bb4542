"""Keys on GPIO through gpiozero: a 4×4 membrane matrix keypad and single push buttons.

The matrix is scanned on each poll: one row driven low at a time, columns read with pull-ups;
a key counts once it reads pressed on two scans in a row (debounce at the app's poll rate)."""

from __future__ import annotations

from collections import deque

from terminal.core.keys import Key, KeyEvent
from terminal.hw.device import DeviceCheck, DeviceUnavailable
from terminal.hw.gpio import factory_name, gpiozero_module
from terminal.hw.input import parse_key_list, parse_pairs
from terminal.hw.layout import TouchTarget


def _claim(build, pin: int, what: str):
    """One gpiozero device, with pin conflicts and bad pins reported by their setting."""
    gpiozero = gpiozero_module()
    try:
        return build(pin)
    except (gpiozero.GPIOPinInUse, gpiozero.PinInvalidPin, gpiozero.PinFixedPull) as error:
        raise DeviceUnavailable(
            f"gpio: {what} on GPIO{pin}: {error}; check the pin numbers"
        ) from None


class MatrixKeypad:
    name = "gpio-matrix"

    def __init__(self, rows, cols, key_names, pin_factory):
        gpiozero = gpiozero_module()
        keys = parse_key_list(key_names, "gpio.keypad_keys")
        if len(keys) != len(rows) * len(cols):
            raise DeviceUnavailable(
                f"gpio.keypad_keys has {len(keys)} keys for {len(rows)} rows × {len(cols)} "
                "columns; list one key per button, row by row"
            )
        self.layout = [keys[r * len(cols) : (r + 1) * len(cols)] for r in range(len(rows))]
        self._factory = pin_factory
        self.rows, self.cols = [], []
        try:
            for pin in rows:
                self.rows.append(
                    _claim(
                        lambda p: gpiozero.DigitalOutputDevice(
                            p, active_high=False, initial_value=False, pin_factory=pin_factory
                        ),
                        pin,
                        "keypad row",
                    )
                )
            for pin in cols:
                self.cols.append(
                    _claim(
                        lambda p: gpiozero.DigitalInputDevice(
                            p, pull_up=True, pin_factory=pin_factory
                        ),
                        pin,
                        "keypad column",
                    )
                )
        except BaseException:
            self.close()
            raise
        self._seen: frozenset[Key] = frozenset()  # read on the previous scan
        self._held: frozenset[Key] = frozenset()  # debounced: reported, not yet released

    def scan(self) -> frozenset[Key]:
        """The keys that read pressed now."""
        pressed = set()
        for r, row in enumerate(self.rows):
            row.on()
            try:
                pressed |= {self.layout[r][c] for c, col in enumerate(self.cols) if col.value}
            finally:
                row.off()
        return frozenset(pressed)

    def events(self, now: float) -> list[KeyEvent]:
        seen = self.scan()
        stable = seen & self._seen  # pressed on this scan and the one before
        new = stable - self._held
        self._held = (self._held & seen) | stable
        self._seen = seen
        order = [key for row in self.layout for key in row]
        return [KeyEvent(key, now, "gpio") for key in sorted(new, key=order.index)]

    def set_targets(self, targets: tuple[TouchTarget, ...]) -> None:
        """A keypad has no on-screen keys."""

    def check(self) -> DeviceCheck:
        return DeviceCheck(
            "input",
            self.name,
            f"{len(self.rows)}×{len(self.cols)} matrix",
            {
                "rows": ",".join(d.pin.info.name for d in self.rows),
                "cols": ",".join(d.pin.info.name for d in self.cols),
                "pins": factory_name(self._factory),
            },
        )

    def close(self) -> None:
        for device in self.rows + self.cols:
            device.close()


class GpioButtons:
    """Single push buttons between a GPIO pin and ground ("PIN=KEY" in gpio.buttons). gpiozero
    calls back from its own thread; the callback only appends to a queue the poll drains."""

    name = "gpio-buttons"

    def __init__(self, pairs, pin_factory):
        gpiozero = gpiozero_module()
        self._factory = pin_factory
        self._queue: deque[Key] = deque()
        self.buttons = []
        try:
            for pin_text, key in parse_pairs(pairs, "gpio.buttons"):
                if not pin_text.isdigit():
                    raise DeviceUnavailable(f"gpio.buttons: {pin_text!r} is not a BCM pin number")
                button = _claim(
                    lambda p: gpiozero.Button(
                        p, pull_up=True, bounce_time=0.02, pin_factory=pin_factory
                    ),
                    int(pin_text),
                    f"button {key.value}",
                )
                button.when_pressed = lambda _device, key=key: self._queue.append(key)
                self.buttons.append((button, key))
        except BaseException:
            self.close()
            raise

    def events(self, now: float) -> list[KeyEvent]:
        events = []
        while self._queue:
            events.append(KeyEvent(self._queue.popleft(), now, "gpio"))
        return events

    def set_targets(self, targets: tuple[TouchTarget, ...]) -> None:
        """Buttons have no on-screen keys."""

    def check(self) -> DeviceCheck:
        return DeviceCheck(
            "input",
            self.name,
            f"{len(self.buttons)} button(s)",
            {b.pin.info.name: k.value for b, k in self.buttons}
            | {"pins": factory_name(self._factory)},
        )

    def close(self) -> None:
        for button, _ in self.buttons:
            button.close()
