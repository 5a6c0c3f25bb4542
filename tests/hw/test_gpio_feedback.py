"""Buzzer and LEDs on gpiozero's MockFactory: pin states over time on a fake clock (patterns
played inline), and the worker thread interrupted by a newer pattern (event-driven, no sleeps)."""

import logging
import threading
from dataclasses import dataclass

import pytest
from gpiozero import PinSetInput
from gpiozero.pins.mock import MockFactory, MockPWMPin

from terminal.hw.device import DeviceUnavailable
from terminal.hw.feedback import Signal
from terminal.hw.gpio_feedback import GpioFeedback
from terminal.sim.feedback import RecordingFeedback


@dataclass
class Gpio:
    buzzer_pin: int = 18
    green_led_pin: int = 23
    red_led_pin: int = 24
    rgb_led_pins: tuple = (22, 27, 17)


@dataclass
class FeedbackSettings:
    buzzer: str = "active"
    tone_hz: int = 2700
    leds: str = "pair"
    key_click: bool = True


@dataclass
class Sound:
    enabled: bool = True
    beep_ok_ms: int = 120
    beep_error_ms: int = 600


class FakeClock:
    """Each wait first notes the pins as they are now, then moves time on."""

    def __init__(self, factory, pins):
        self.factory, self.pins, self.now, self.timeline = factory, pins, 0.0, []

    def snapshot(self):
        return tuple(float(self.factory.pin(p).state) for p in self.pins)

    def wait(self, seconds: float) -> bool:
        self.timeline.append((round(self.now, 3), self.snapshot()))
        self.now += seconds
        return False  # never interrupted


@pytest.fixture
def factory():
    factory = MockFactory(pin_class=MockPWMPin)
    yield factory
    factory.reset()


def inline(factory, pins, **settings):
    clock = FakeClock(factory, pins)
    feedback = GpioFeedback(Gpio(), FeedbackSettings(**settings), Sound(), factory, wait=clock.wait)
    return feedback, clock


def test_success_is_a_short_double_beep_under_green(factory):
    feedback, clock = inline(factory, [18, 23, 24])
    feedback.play(Signal.SUCCESS)
    #                 buzzer green red
    assert clock.timeline == [
        (0.0, (1.0, 1.0, 0.0)),
        (0.12, (0.0, 1.0, 0.0)),
        (0.24, (1.0, 1.0, 0.0)),
        (0.36, (0.0, 1.0, 0.0)),
    ]
    assert clock.snapshot() == (0.0, 0.0, 0.0)  # all off 1.5 s after the last beep
    feedback.close()


def test_refusal_is_one_long_beep_under_red(factory):
    feedback, clock = inline(factory, [18, 23, 24])
    feedback.play(Signal.REFUSAL)
    assert clock.timeline == [(0.0, (1.0, 0.0, 1.0)), (0.6, (0.0, 0.0, 1.0))]
    assert clock.snapshot() == (0.0, 0.0, 0.0)
    feedback.close()


def test_a_key_click_beeps_briefly_and_leaves_the_leds_alone(factory):
    feedback, clock = inline(factory, [18, 23, 24])
    factory.pin(23).state = 1  # green still lit from a sale
    feedback.play(Signal.KEY_CLICK)
    assert clock.timeline == [(0.0, (1.0, 1.0, 0.0))]
    assert clock.snapshot() == (0.0, 1.0, 0.0)
    feedback.close()


def test_a_passive_buzzer_is_driven_with_its_tone(factory):
    feedback, clock = inline(factory, [18], buzzer="passive", tone_hz=2000)
    feedback.play(Signal.REFUSAL)
    assert clock.timeline[0] == (0.0, (0.5,))  # 50% duty square wave
    assert factory.pin(18).frequency == 2000
    assert clock.snapshot() == (0.0,)
    feedback.close()


def test_an_rgb_led_shows_green_then_goes_dark(factory):
    feedback, clock = inline(factory, [22, 27, 17], leds="rgb")
    feedback.play(Signal.SUCCESS)
    assert {state for _, state in clock.timeline} == {(0.0, 1.0, 0.0)}
    assert clock.snapshot() == (0.0, 0.0, 0.0)
    assert feedback.check().found["RGB LED"] == "GPIO22,GPIO27,GPIO17"
    feedback.close()


def test_sound_disabled_keeps_the_buzzer_quiet_but_lights_the_leds(factory):
    clock = FakeClock(factory, [18, 23, 24])
    feedback = GpioFeedback(
        Gpio(), FeedbackSettings(), Sound(enabled=False), factory, wait=clock.wait
    )
    feedback.play(Signal.SUCCESS)
    assert {state[0] for _, state in clock.timeline} == {0.0}
    assert clock.timeline[0][1][1] == 1.0
    feedback.close()


def test_a_refusal_interrupts_a_success_still_playing(factory):
    red_lit = threading.Event()

    class RedPin(MockPWMPin):
        def _change_state(self, value):
            changed = super()._change_state(value)
            if value:
                red_lit.set()
            return changed

    factory.pin(24, pin_class=RedPin)
    # A success that would hold green for a minute; only the interruption can end it early.
    feedback = GpioFeedback(Gpio(), FeedbackSettings(), Sound(beep_ok_ms=60_000), factory)
    try:
        feedback.play(Signal.SUCCESS)
        feedback.play(Signal.REFUSAL)
        assert red_lit.wait(timeout=10)
        assert factory.pin(23).state == 0  # green went off when red came on
    finally:
        feedback.close()
    assert not feedback._worker.is_alive()
    assert factory.pin(18).state == 0


class Signalled(logging.Handler):
    """Sets `event` when an error is logged: the worker's report that a signal failed."""

    def __init__(self, event: threading.Event):
        super().__init__(logging.ERROR)
        self.event, self.messages = event, []

    def emit(self, record):
        self.messages.append(record.getMessage())
        self.event.set()


def test_a_pin_error_is_logged_reported_and_the_worker_keeps_serving(factory):
    failed, red_lit = threading.Event(), threading.Event()

    class BrokenGreen(MockPWMPin):
        def _change_state(self, value):
            if value:  # lighting green fails, as a pin lost under gpiozero would
                raise PinSetInput(f"cannot set state of pin {self!r}")
            return super()._change_state(value)

    class RedPin(MockPWMPin):
        def _change_state(self, value):
            changed = super()._change_state(value)
            if value:
                red_lit.set()
            return changed

    factory.pin(23, pin_class=BrokenGreen)
    factory.pin(24, pin_class=RedPin)
    handler = Signalled(failed)
    logger = logging.getLogger("terminal.hw.gpio_feedback")
    logger.addHandler(handler)
    feedback = GpioFeedback(Gpio(), FeedbackSettings(), Sound(), factory)
    try:
        assert feedback.check().ok and feedback.healthy
        feedback.play(Signal.SUCCESS)
        assert failed.wait(timeout=10), "the worker died without a word"
        assert "PinSetInput" in handler.messages[0]
        assert not feedback.healthy
        check = feedback.check()
        assert not check.ok and "PinSetInput" in check.problem
        assert factory.pin(18).state == 0  # the buzzer is not left sounding
        feedback.play(Signal.REFUSAL)  # the next signal still plays
        assert red_lit.wait(timeout=10)
        assert feedback._worker.is_alive()
    finally:
        logger.removeHandler(handler)
        feedback.close()
    assert not feedback._worker.is_alive()


def test_three_rgb_pins_are_required(factory):
    with pytest.raises(DeviceUnavailable, match=r"gpio.rgb_led_pins = \[22, 27\]"):
        g = Gpio(rgb_led_pins=(22, 27))
        GpioFeedback(g, FeedbackSettings(leds="rgb"), Sound(), factory, wait=lambda s: False)


def test_a_pin_used_twice_is_named(factory):
    with pytest.raises(DeviceUnavailable, match=r"LED on GPIO18"):
        GpioFeedback(Gpio(green_led_pin=18), FeedbackSettings(), Sound(), factory, wait=None)


def test_the_recording_fake_keeps_what_was_played():
    feedback = RecordingFeedback(key_click=False)
    feedback.play(Signal.KEY_CLICK)
    feedback.play(Signal.SUCCESS)
    assert feedback.played == [Signal.SUCCESS]
    assert sum(step.buzzer for step in feedback.steps_played()) == 2  # two beeps


@pytest.mark.hardware
def test_real_pins_follow_a_refusal_on_the_pi():
    """On a Pi: the buzzer and red LED pins read back on, then off, on the lgpio factory."""
    from terminal.hw.gpio import pin_factory

    factory = pin_factory("lgpio")
    seen = []

    def wait(seconds):  # reads the real pins at each step instead of sleeping through it
        seen.append((feedback.buzzer.value, feedback.red.value))
        return False

    feedback = GpioFeedback(Gpio(), FeedbackSettings(), Sound(), factory, wait=wait)
    try:
        feedback.play(Signal.REFUSAL)
        assert seen == [(1, 1), (0, 1)]
        assert (feedback.buzzer.value, feedback.red.value) == (0, 0)
    finally:
        feedback.close()
