"""The one place that turns configuration into a device backend, real or simulated.

gpiozero's pin factory is the model: adapters never pick their own backend, and no product code
but this module names terminal.sim (tests/test_layering.py keeps it so). Each kind's backend
comes from its config key, or from an environment variable that overrides it for one run
(QR_TERMINAL_DISPLAY=window|framebuffer|headless, QR_TERMINAL_INPUT, QR_TERMINAL_FEEDBACK,
QR_TERMINAL_PRINTER, QR_TERMINAL_CAMERA); "auto" is resolved here, with the reason kept for
`qr-terminal hw list`."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from terminal.hw.camera import Camera, CameraError, FilesCamera, Picamera2Camera, V4l2Camera
from terminal.hw.device import DeviceCheck, DeviceUnavailable
from terminal.hw.display import Display
from terminal.hw.feedback import Feedback
from terminal.hw.input import KeyInput, MergedInput
from terminal.hw.layout import Layout
from terminal.hw.printer import ReceiptPrinter

KINDS = ("display", "input", "feedback", "printer", "camera")
ENV = {kind: f"QR_TERMINAL_{kind.upper()}" for kind in KINDS}
# What each kind may be set to (config key choices, plus "auto" where the config allows it).
BACKENDS = {
    "display": ("auto", "headless", "window", "framebuffer"),
    "input": ("auto", "window", "evdev", "touch", "gpio", "script"),
    "feedback": ("gpio", "record"),
    "printer": ("none", "usb", "serial", "network", "dummy"),
    "camera": ("sim", "picamera2", "v4l2", "files"),
}
_CONFIG_KEY = {
    "display": "display.backend",
    "input": "input.backend",
    "feedback": "feedback.backend",
    "printer": "printer.backend",
    "camera": "camera.backend",
}
FROM_CONFIG = Path("<paths.screens_dir>")  # open_display's default: PNGs where config says


@dataclass(frozen=True)
class Choice:
    kind: str
    backend: str
    reason: str

    def line(self) -> str:
        return f"{self.kind:<9}{self.backend:<12}{self.reason}"


def _configured(kind: str, config) -> str:
    section, key = _CONFIG_KEY[kind].split(".")
    return getattr(getattr(config, section), key)


def _requested(kind: str, config, env: Mapping[str, str]) -> tuple[str, str]:
    variable = ENV[kind]
    value = env.get(variable, "").strip()
    if value:
        if value not in BACKENDS[kind]:
            raise DeviceUnavailable(
                f"{variable}={value!r}: use one of {', '.join(BACKENDS[kind])}, or unset it"
            )
        return value, f"environment {variable}"
    value = _configured(kind, config)
    return value, f"config {_CONFIG_KEY[kind]} = {value!r}"


def _has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def choose(kind: str, config, env: Mapping[str, str] | None = None) -> Choice:
    """Which backend `kind` would use, and why, without opening anything."""
    env = os.environ if env is None else env
    backend, reason = _requested(kind, config, env)
    if backend != "auto":
        return Choice(kind, backend, reason)
    if kind == "display":
        desktop = env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")
        if desktop and _has_module("pygame"):
            return Choice(kind, "window", f"auto ({reason}): a desktop is running, pygame found")
        if Path(config.display.framebuffer).exists():
            return Choice(
                kind, "framebuffer", f"auto ({reason}): {config.display.framebuffer} exists"
            )
        return Choice(kind, "headless", f"auto ({reason}): no desktop, no framebuffer")
    # input: the window's keys go with a window; otherwise the kit's own keys
    if choose("display", config, env).backend == "window":
        return Choice(kind, "window", f"auto ({reason}): the display is a window")
    if config.gpio.backend == "lgpio":
        return Choice(kind, "gpio", f"auto ({reason}): gpio.backend = 'lgpio' (the Pi header)")
    if Path("/dev/input").is_dir() and _has_module("evdev"):
        return Choice(kind, "evdev", f"auto ({reason}): /dev/input exists")
    return Choice(kind, "script", f"auto ({reason}): no window, GPIO or /dev/input: no keys")


def check_environment(env: Mapping[str, str] | None = None) -> None:
    """Refuses a QR_TERMINAL_<KIND> override that names no backend (DeviceUnavailable)."""
    env = os.environ if env is None else env
    for kind, variable in ENV.items():
        value = env.get(variable, "").strip()
        if value and value not in BACKENDS[kind]:
            raise DeviceUnavailable(
                f"{variable}={value!r}: use one of {', '.join(BACKENDS[kind])}, or unset it"
            )


def describe(config, env: Mapping[str, str] | None = None) -> list[Choice]:
    """The backend each device kind would use and why (`qr-terminal hw list`)."""
    choices = []
    for kind in KINDS:
        try:
            choices.append(choose(kind, config, env))
        except DeviceUnavailable as error:
            choices.append(Choice(kind, "?", str(error)))
    return choices


def layout_of(config) -> Layout:
    return Layout((config.display.width, config.display.height), config.display.rotation)


def _screens_dir(config) -> Path:
    screens = Path(config.paths.screens_dir)
    return screens if screens.is_absolute() else Path(config.paths.state_dir) / screens


def open_display(config, env=None, png_folder: Path | None = FROM_CONFIG) -> Display:
    """The display the configuration names. Headless keeps frames in memory and writes PNGs to
    `png_folder` (by default paths.screens_dir; None: memory only)."""
    backend = choose("display", config, env).backend
    layout = layout_of(config)
    if backend == "framebuffer":
        from terminal.hw.framebuffer import FramebufferDisplay

        return FramebufferDisplay(config.display.framebuffer, layout)
    if backend == "window":
        from terminal.hw.window import WindowDisplay

        scale = 2 if max(layout.canvas) <= 320 else 1  # a 320×240 canvas is tiny on a laptop
        return WindowDisplay(layout, scale=scale, title=f"QR terminal {config.device.id}")
    from terminal.sim.display import HeadlessDisplay

    folder = _screens_dir(config) if png_folder is FROM_CONFIG else png_folder
    try:
        return HeadlessDisplay(layout, folder)
    except OSError as error:
        raise DeviceUnavailable(
            f"display headless: cannot create {folder} ({error.strerror}); "
            "set paths.state_dir or paths.screens_dir to a writable folder"
        ) from None


def open_input(config, display: Display | None = None, env=None) -> KeyInput:
    """The key input the configuration names. The window backend needs the window display."""
    backend = choose("input", config, env).backend
    cfg = config.input
    if backend == "window":
        from terminal.hw.window import WindowDisplay, WindowInput

        if not isinstance(display, WindowDisplay):
            raise DeviceUnavailable(
                "input window: the window's keys need display.backend = 'window'; "
                "choose another input.backend for this display"
            )
        return WindowInput(display)
    if backend == "evdev":
        from terminal.hw.evdev_input import EvdevKeypad

        return EvdevKeypad(cfg.device, tuple(cfg.key_map), cfg.grab)
    if backend == "touch":
        from terminal.hw.evdev_input import Calibration, EvdevTouch

        calibration = Calibration(
            cfg.touch_x_min, cfg.touch_x_max, cfg.touch_y_min, cfg.touch_y_max, cfg.touch_swap_xy
        )
        return EvdevTouch(cfg.touch_device, calibration, layout_of(config), cfg.grab)
    if backend == "gpio":
        from terminal.hw.gpio import pin_factory
        from terminal.hw.gpio_input import GpioButtons, MatrixKeypad

        pins, gpio = pin_factory(config.gpio.backend), config.gpio
        keypad = MatrixKeypad(gpio.keypad_rows, gpio.keypad_cols, gpio.keypad_keys, pins)
        if not gpio.buttons:
            return keypad
        try:
            return MergedInput([keypad, GpioButtons(gpio.buttons, pins)])
        except BaseException:
            keypad.close()
            raise
    from terminal.sim.input import ScriptedInput

    return ScriptedInput.from_file(Path(cfg.script)) if cfg.script else ScriptedInput([])


def open_feedback(config, env=None, wait: Callable[[float], bool] | None = None) -> Feedback:
    backend = choose("feedback", config, env).backend
    if backend == "gpio":
        from terminal.hw.gpio import pin_factory
        from terminal.hw.gpio_feedback import GpioFeedback

        return GpioFeedback(
            config.gpio, config.feedback, config.sound, pin_factory(config.gpio.backend), wait
        )
    from terminal.sim.feedback import RecordingFeedback

    sound = config.sound
    return RecordingFeedback(sound.beep_ok_ms, sound.beep_error_ms, config.feedback.key_click)


def open_printer(config, env=None) -> ReceiptPrinter | None:
    """The receipt printer, or None when printer.backend = "none" (the kit prints nothing)."""
    backend = choose("printer", config, env).backend
    cfg = config.printer
    if backend == "none":
        return None
    if backend == "dummy":
        from terminal.sim.printer import DummyPrinter

        return DummyPrinter(cfg.paper_width_px)
    from terminal.hw import printer

    if backend == "usb":
        return printer.usb_printer(cfg.usb_vendor, cfg.usb_product, cfg.paper_width_px)
    if backend == "serial":
        return printer.serial_printer(cfg.serial_device, cfg.baudrate, cfg.paper_width_px)
    return printer.network_printer(cfg.host, cfg.port, cfg.paper_width_px)


def open_camera(camera_config, paths_config, scene=None, env=None) -> Camera:
    """The camera the configuration names (not started). `scene`: the simulated camera's script
    (a list of terminal.sim.camera.Segment); by default a customer shows a sample token."""
    env = os.environ if env is None else env
    backend = env.get(ENV["camera"], "").strip() or camera_config.backend
    size = (camera_config.width, camera_config.height)
    if backend == "picamera2":
        return Picamera2Camera(*size, fps=camera_config.fps, autofocus=camera_config.autofocus)
    if backend == "v4l2":
        return V4l2Camera(camera_config.device, *size, fps=camera_config.fps)
    if backend == "files":
        if not paths_config.camera_files:
            raise CameraError("camera.backend = 'files' needs paths.camera_files")
        return FilesCamera(Path(paths_config.camera_files), fps=camera_config.fps)
    if backend == "sim":
        from terminal.sim.camera import SimCamera, customer_shows

        segments = scene if scene is not None else customer_shows("EU1:SAMPLE-TOKEN")
        return SimCamera(segments, fps=camera_config.fps, size=(size[1], size[0]))
    raise CameraError(f"unknown camera backend {backend!r}: use {', '.join(BACKENDS['camera'])}")


def check_camera(camera: Camera) -> DeviceCheck:
    """Starts the camera, reads one frame, stops it: what the self-test reports."""
    where = str(getattr(camera, "device", "") or getattr(camera, "path", ""))
    try:
        camera.start()
        try:
            frame = camera.read()
        finally:
            camera.stop()
    except CameraError as error:
        return DeviceCheck("camera", camera.name, where, {}, str(error))
    if frame is None:
        return DeviceCheck("camera", camera.name, where, {}, "camera: the source gave no frame")
    height, width = frame.gray.shape
    return DeviceCheck("camera", camera.name, where, {"frame": f"{width}×{height}"})


def _check_one(kind: str, config, env, display) -> DeviceCheck | None:
    if kind == "camera":
        return check_camera(open_camera(config.camera, config.paths, env=env))
    device = {
        "input": lambda: open_input(config, display, env),
        "feedback": lambda: open_feedback(config, env),
        "printer": lambda: open_printer(config, env),
    }[kind]()
    if device is None:  # no printer configured
        return None
    try:
        return device.check()
    finally:
        device.close()


def check_all(config, env=None) -> list[DeviceCheck]:
    """Each device kind opened as configured, asked for its check(), and closed again; a device
    that cannot be opened is a check with its problem (the self-test's device section)."""
    checks: list[DeviceCheck] = []
    display = None
    try:
        for kind in KINDS:
            backend = "?"
            try:
                backend = choose(kind, config, env).backend
                if kind == "display":
                    display = open_display(config, env, png_folder=None)
                    check = display.check()
                else:
                    check = _check_one(kind, config, env, display)
            except (DeviceUnavailable, CameraError) as error:
                check = DeviceCheck(kind, backend, "", {}, str(error))
            if check is not None:
                checks.append(check)
    finally:
        if display is not None:
            display.close()
    return checks
