"""USB numeric keypads, keyboards and touch screens through Linux evdev.

Keypads are grabbed exclusively so keys typed for a sale never reach the login console; touch
positions are calibrated to panel pixels and turned into the on-screen key under the finger."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from terminal.core.keys import Key, KeyEvent
from terminal.hw.device import DeviceCheck, DeviceUnavailable, missing_library
from terminal.hw.input import parse_pairs
from terminal.hw.layout import Layout, TouchTarget, hit

# Numeric keypad and keyboard keys, by evdev name. A "00" key on USB keypads sends KEY_KP0
# twice and needs no entry; the keypad's operator keys take the terminal's function keys.
BUILT_IN_MAP: dict[str, Key] = {
    **{f"KEY_{n}": Key(str(n)) for n in range(10)},
    **{f"KEY_KP{n}": Key(str(n)) for n in range(10)},
    **{f"KEY_F{n}": Key(f"F{n}") for n in range(1, 5)},
    "KEY_ENTER": Key.ENTER,
    "KEY_KPENTER": Key.ENTER,
    "KEY_BACKSPACE": Key.BACKSPACE,
    "KEY_DELETE": Key.CLEAR,
    "KEY_KPSLASH": Key.CLEAR,
    "KEY_ESC": Key.CANCEL,
    "KEY_KPMINUS": Key.CANCEL,
    "KEY_TAB": Key.MENU,
    "KEY_KPASTERISK": Key.MENU,
    "KEY_KPPLUS": Key.PLUS,
    "KEY_KPDOT": Key.DOUBLE_ZERO,
}


def _evdev():
    try:
        import evdev
    except ImportError:
        raise missing_library(
            "input evdev", "evdev", "pip install evdev (Linux only; needs the kernel headers)"
        ) from None
    return evdev


def build_key_map(extra_pairs: tuple[str, ...], ecodes) -> dict[int, Key]:
    """The built-in map with input.key_map's "CODE=KEY" pairs over it, by evdev key code."""
    names = dict(BUILT_IN_MAP)
    names.update(parse_pairs(extra_pairs, "input.key_map"))
    codes = {}
    for name, key in names.items():
        code = ecodes.ecodes.get(name)
        if code is None:
            raise DeviceUnavailable(
                f"input.key_map: {name!r} is not an evdev key name (`evtest` shows the names)"
            )
        codes[code] = key
    return codes


def translate(event, key_map: dict[int, Key], ecodes) -> Key | None:
    """A key press (not release, not auto-repeat) as the terminal's key; None otherwise."""
    if event.type == ecodes.EV_KEY and event.value == 1:
        return key_map.get(event.code)
    return None


def find_device(evdev, wanted_key: str, exclude_abs: bool):
    """The first input device that has `wanted_key` (keypads: KEY_KP0 or KEY_0; touch:
    BTN_TOUCH). Devices this user cannot open are skipped; none found says why."""
    ecodes = evdev.ecodes
    paths = evdev.list_devices()
    for path in paths:
        try:
            device = evdev.InputDevice(path)
        except OSError:
            continue
        caps = device.capabilities()
        keys = set(caps.get(ecodes.EV_KEY, ()))
        has_abs = ecodes.EV_ABS in caps
        if exclude_abs and has_abs:
            device.close()
            continue
        if any(ecodes.ecodes[name] in keys for name in wanted_key.split("|")):
            return device
        device.close()
    what = "touch screen" if wanted_key == "BTN_TOUCH" else "keypad or keyboard"
    reason = (
        "no readable devices in /dev/input: add the user to the 'input' group"
        if not paths
        else f"{len(paths)} device(s) readable, none is a {what}"
    )
    raise DeviceUnavailable(f"input: no {what} found ({reason}); plug it in or set the device")


def _open(evdev, path: str):
    try:
        return evdev.InputDevice(path)
    except FileNotFoundError:
        raise DeviceUnavailable(
            f"input: {path} does not exist; `ls /dev/input/by-id/` shows the devices"
        ) from None
    except PermissionError:
        raise DeviceUnavailable(
            f"input: no permission to read {path}; add the user to the 'input' group"
        ) from None


def _read(device) -> list:
    try:
        return list(device.read())
    except BlockingIOError:
        return []
    except OSError as error:
        raise DeviceUnavailable(f"input: {device.path} stopped ({error}); unplugged?") from None


class EvdevKeypad:
    name = "evdev"

    def __init__(self, path: str = "", key_map: tuple[str, ...] = (), grab: bool = True):
        evdev = self._evdev = _evdev()
        self._codes = build_key_map(tuple(key_map), evdev.ecodes)
        self._device = (
            _open(evdev, path) if path else find_device(evdev, "KEY_KP0|KEY_0", exclude_abs=True)
        )
        self.grabbed = False
        if grab:
            try:
                self._device.grab()
                self.grabbed = True
            except OSError as error:
                self._device.close()
                raise DeviceUnavailable(
                    f"input: {self._device.path} is grabbed by another program ({error}); stop it"
                    " (`fuser -v` the device) or set input.grab = false"
                ) from None

    def events(self, now: float) -> list[KeyEvent]:
        ecodes = self._evdev.ecodes
        keys = (translate(event, self._codes, ecodes) for event in _read(self._device))
        return [KeyEvent(key, now, "keypad") for key in keys if key is not None]

    def set_targets(self, targets: tuple[TouchTarget, ...]) -> None:
        """A keypad has no on-screen keys."""

    def check(self) -> DeviceCheck:
        info = self._device.info
        return DeviceCheck(
            "input",
            self.name,
            self._device.path,
            {
                "name": self._device.name,
                "usb id": f"{info.vendor:04x}:{info.product:04x}",
                "grabbed": "yes" if self.grabbed else "no",
                "keys mapped": str(len(self._codes)),
            },
        )

    def close(self) -> None:
        if self.grabbed:
            with contextlib.suppress(OSError):  # unplugged: the grab went with the device
                self._device.ungrab()
        self._device.close()


@dataclass(frozen=True)
class Calibration:
    """Raw touch readings at the panel's edges; min > max mirrors an axis."""

    x_min: int
    x_max: int
    y_min: int
    y_max: int
    swap_xy: bool = False

    def to_panel(self, raw_x: int, raw_y: int, panel: tuple[int, int]) -> tuple[int, int]:
        if self.swap_xy:
            raw_x, raw_y = raw_y, raw_x
        return (
            _scale(raw_x, self.x_min, self.x_max, panel[0]),
            _scale(raw_y, self.y_min, self.y_max, panel[1]),
        )


def _scale(raw: int, low: int, high: int, pixels: int) -> int:
    if high == low:
        raise DeviceUnavailable("input.touch calibration: min and max of an axis are equal")
    position = (raw - low) * (pixels - 1) / (high - low)
    return min(pixels - 1, max(0, round(position)))


class TouchTracker:
    """Follows a touch screen's event stream; a finger landing gives the key under it.

    A touch is taken at the SYN_REPORT that closes the frame in which BTN_TOUCH went down, when
    the frame's X and Y are known (single-touch ABS_X/Y or multi-touch slot 0 positions)."""

    def __init__(self, calibration: Calibration, layout: Layout, ecodes):
        self.calibration, self.layout, self._ec = calibration, layout, ecodes
        self.targets: tuple[TouchTarget, ...] = ()
        self._x: int | None = None
        self._y: int | None = None
        self._landed = False  # BTN_TOUCH went down in the frame not yet closed

    def feed(self, event) -> Key | None:
        ec = self._ec
        if event.type == ec.EV_ABS:
            if event.code in (ec.ABS_X, ec.ABS_MT_POSITION_X):
                self._x = event.value
            elif event.code in (ec.ABS_Y, ec.ABS_MT_POSITION_Y):
                self._y = event.value
        elif event.type == ec.EV_KEY and event.code == ec.BTN_TOUCH:
            self._landed = event.value == 1
        elif (
            event.type == ec.EV_SYN
            and event.code == ec.SYN_REPORT
            and self._landed
            and self._x is not None
            and self._y is not None
        ):
            self._landed = False
            return self.key_at(self._x, self._y)
        return None

    def key_at(self, raw_x: int, raw_y: int) -> Key | None:
        panel_x, panel_y = self.calibration.to_panel(raw_x, raw_y, self.layout.panel)
        return hit(self.targets, *self.layout.panel_to_canvas(panel_x, panel_y))


class EvdevTouch:
    name = "touch"

    def __init__(self, path: str, calibration: Calibration, layout: Layout, grab: bool = True):
        evdev = self._evdev = _evdev()
        self._device = _open(evdev, path) if path else find_device(evdev, "BTN_TOUCH", False)
        self.tracker = TouchTracker(calibration, layout, evdev.ecodes)
        self.grabbed = False
        if grab:  # a desktop would otherwise also move its pointer
            try:
                self._device.grab()
                self.grabbed = True
            except OSError:
                self.grabbed = False

    def set_targets(self, targets: tuple[TouchTarget, ...]) -> None:
        self.tracker.targets = tuple(targets)

    def events(self, now: float) -> list[KeyEvent]:
        keys = (self.tracker.feed(event) for event in _read(self._device))
        return [KeyEvent(key, now, "touch") for key in keys if key is not None]

    def check(self) -> DeviceCheck:
        ecodes = self._evdev.ecodes
        absinfo = dict(self._device.capabilities().get(ecodes.EV_ABS, []))
        x, y = absinfo.get(ecodes.ABS_X), absinfo.get(ecodes.ABS_Y)
        found = {"name": self._device.name, "grabbed": "yes" if self.grabbed else "no"}
        if x is not None and y is not None:
            found["raw range"] = f"x {x.min}..{x.max}, y {y.min}..{y.max}"
        return DeviceCheck("input", self.name, self._device.path, found)

    def close(self) -> None:
        if self.grabbed:
            with contextlib.suppress(OSError):
                self._device.ungrab()
        self._device.close()
