"""gpiozero's pin factory for the configured GPIO backend: lgpio on a Pi (gpiozero 2's default
there), gpiozero's own MockFactory on a laptop. One factory per process, shared by the keypad,
buttons, buzzer and LEDs, so mock pins are the same objects everywhere."""

from __future__ import annotations

from functools import cache

from terminal.hw.device import DeviceUnavailable, missing_library


def gpiozero_module():
    try:
        import gpiozero
    except ImportError:
        raise missing_library("gpio", "gpiozero", "pip install gpiozero") from None
    return gpiozero


@cache
def pin_factory(backend: str):
    """The pin factory for gpio.backend ("mock" or "lgpio")."""
    gpiozero_module()
    if backend == "mock":
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        # PWM-capable mock pins: a passive buzzer and an RGB LED need PWM.
        return MockFactory(pin_class=MockPWMPin)
    if backend == "lgpio":
        try:
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
        except ImportError:
            raise missing_library(
                "gpio",
                "lgpio",
                "sudo apt-get install python3-lgpio (the venv needs "
                "--system-site-packages; scripts/setup does this on a Pi)",
            ) from None
        except OSError as error:
            raise DeviceUnavailable(
                f"gpio: cannot open the GPIO chip ({error}); is this a Raspberry Pi, and is the "
                "user in the 'gpio' group?"
            ) from None
    raise DeviceUnavailable(f"gpio.backend = {backend!r}: use 'mock' or 'lgpio'")


def factory_name(factory) -> str:
    return type(factory).__name__
