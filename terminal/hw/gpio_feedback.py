"""Buzzer (active, or passive driven with a tone) and LEDs (a green/red pair or one RGB LED) on
GPIO through gpiozero. Patterns play on one worker thread that a newer pattern interrupts; with
an injected `wait`, they play inline on the caller's (fake) clock, for tests."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from terminal.hw.device import DeviceCheck, DeviceUnavailable
from terminal.hw.feedback import Signal, Step, patterns
from terminal.hw.gpio import factory_name, gpiozero_module

log = logging.getLogger(__name__)

COLOURS = {"green": (0, 1, 0), "red": (1, 0, 0), "off": (0, 0, 0)}


class GpioFeedback:
    name = "gpio"

    def __init__(
        self,
        gpio,  # GpioConfig: buzzer_pin, green_led_pin, red_led_pin, rgb_led_pins
        feedback,  # FeedbackConfig: buzzer, tone_hz, leds, key_click
        sound,  # SoundConfig: enabled, beep_ok_ms, beep_error_ms
        pin_factory,
        wait: Callable[[float], bool] | None = None,
    ):
        self._gz = gpiozero_module()
        self._factory = pin_factory
        self.buzzer_kind = feedback.buzzer if sound.enabled else "none"
        self.leds_kind, self.key_click = feedback.leds, feedback.key_click
        self.patterns = patterns(sound.beep_ok_ms, sound.beep_error_ms)
        self._devices: list = []
        try:
            self.buzzer = self._make_buzzer(gpio.buzzer_pin, feedback.tone_hz)
            self.green = self.red = self.rgb = None
            self._make_leds(gpio)
        except BaseException:
            self.close()
            raise
        self._inline_wait = wait
        self._interrupt = threading.Event()
        self._wake = threading.Condition()
        self._pending: tuple[Step, ...] | None = None
        self._busy = False
        self._stopping = False
        self._fault: str | None = None  # the last pattern's error, until one plays through
        self._worker = None
        if wait is None:
            self._worker = threading.Thread(target=self._serve, name="feedback", daemon=True)
            self._worker.start()

    def _claim(self, build, pin: int, what: str):
        gz = self._gz
        try:
            device = build(pin)
        except (gz.GPIOPinInUse, gz.PinInvalidPin, gz.PinPWMUnsupported) as error:
            raise DeviceUnavailable(f"feedback: {what} on GPIO{pin}: {error}") from None
        self._devices.append(device)
        return device

    def _make_buzzer(self, pin: int, tone_hz: int):
        gz, f = self._gz, self._factory
        if self.buzzer_kind == "active":
            return self._claim(lambda p: gz.Buzzer(p, pin_factory=f), pin, "buzzer")
        if self.buzzer_kind == "passive":
            # A passive piezo only sounds when driven with a square wave: PWM at the tone, 50%.
            return self._claim(
                lambda p: gz.PWMOutputDevice(p, frequency=tone_hz, pin_factory=f), pin, "buzzer"
            )
        return None

    def _make_leds(self, gpio) -> None:
        gz, f = self._gz, self._factory
        if self.leds_kind == "pair":
            self.green = self._claim(lambda p: gz.LED(p, pin_factory=f), gpio.green_led_pin, "LED")
            self.red = self._claim(lambda p: gz.LED(p, pin_factory=f), gpio.red_led_pin, "LED")
        elif self.leds_kind == "rgb":
            pins = tuple(gpio.rgb_led_pins)
            if len(pins) != 3:
                raise DeviceUnavailable(
                    f"gpio.rgb_led_pins = {list(pins)}: list three pins, red, green, blue"
                )
            self.rgb = self._claim(
                lambda _: gz.RGBLED(*pins, pwm=False, pin_factory=f), pins[0], "RGB LED"
            )

    # Applying one step to the pins.
    def _apply(self, step: Step) -> None:
        if self.buzzer is not None:
            if self.buzzer_kind == "passive":
                self.buzzer.value = 0.5 if step.buzzer else 0
            else:
                self.buzzer.value = 1 if step.buzzer else 0
        if step.light is None:
            return
        if self.green is not None:
            self.green.value = 1 if step.light == "green" else 0
            self.red.value = 1 if step.light == "red" else 0
        if self.rgb is not None:
            self.rgb.value = COLOURS[step.light]

    def _run(self, steps: tuple[Step, ...], wait: Callable[[float], bool]) -> None:
        try:
            for step in steps:
                self._apply(step)
                if step.seconds and wait(step.seconds):
                    return  # interrupted: the next pattern sets the pins
        finally:
            if self.buzzer is not None:
                self.buzzer.value = 0

    def play(self, signal: Signal) -> None:
        if signal is Signal.KEY_CLICK and (not self.key_click or self._busy):
            return
        steps = self.patterns[signal]
        if self._inline_wait is not None:
            self._run(steps, self._inline_wait)
            return
        with self._wake:
            self._pending = steps
            self._busy = True
            self._interrupt.set()
            self._wake.notify()

    def _serve(self) -> None:
        while True:
            with self._wake:
                while self._pending is None and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                steps, self._pending = self._pending, None
                self._interrupt.clear()
            try:
                self._run(steps, self._interrupt.wait)
                self._fault = None
            except Exception as error:  # any pin error: it must not end the worker
                # The shopkeeper relies on the next beep: note it (check() reports it), log it,
                # and keep serving; the next pattern sets every pin again.
                self._fault = f"{type(error).__name__}: {error}"
                log.error("feedback: a signal could not be played: %s", self._fault)
            with self._wake:
                self._busy = self._pending is not None

    def check(self) -> DeviceCheck:
        found = {"pins": factory_name(self._factory)}
        if self.buzzer is not None:
            found[f"{self.buzzer_kind} buzzer"] = self.buzzer.pin.info.name
        if self.green is not None:
            found["green LED"] = self.green.pin.info.name
            found["red LED"] = self.red.pin.info.name
        if self.rgb is not None:
            found["RGB LED"] = ",".join(led.pin.info.name for led in self.rgb._leds)
        problem = f"the last signal failed: {self._fault}" if self._fault else None
        return DeviceCheck("feedback", self.name, "GPIO", found, problem)

    @property
    def healthy(self) -> bool:
        """False while the last signal failed on the pins (a newer one that plays clears it)."""
        return self._fault is None

    def close(self) -> None:
        worker = getattr(self, "_worker", None)
        if worker is not None:
            with self._wake:
                self._stopping = True
                self._interrupt.set()
                self._wake.notify()
            worker.join(timeout=5)
        for device in reversed(self._devices):
            device.close()
        self._devices.clear()
