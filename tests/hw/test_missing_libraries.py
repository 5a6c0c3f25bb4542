"""A missing optional library gives one message naming the device and how to install it."""

import sys

import pytest

from terminal.hw.device import DeviceUnavailable
from terminal.hw.layout import Layout


def open_window():
    from terminal.hw.window import WindowDisplay

    WindowDisplay(Layout((320, 240)))


def open_keypad():
    from terminal.hw.evdev_input import EvdevKeypad

    EvdevKeypad("/dev/input/event0")


def open_gpio():
    from terminal.hw import gpio

    gpio.pin_factory.cache_clear()
    try:
        gpio.pin_factory("mock")
    finally:
        gpio.pin_factory.cache_clear()


def open_printer():
    from terminal.hw.printer import usb_printer

    usb_printer(0x0416, 0x5011, 384)


@pytest.mark.parametrize(
    ("module", "opener", "message"),
    [
        ("pygame", open_window, "display window: the Python module 'pygame' is missing; pip"),
        ("evdev", open_keypad, "input evdev: the Python module 'evdev' is missing; pip"),
        ("gpiozero", open_gpio, "gpio: the Python module 'gpiozero' is missing; pip"),
        ("escpos.printer", open_printer, "printer: the Python module 'escpos' is missing; pip"),
    ],
)
def test_a_missing_library_names_the_device_and_the_install(monkeypatch, module, opener, message):
    monkeypatch.setitem(sys.modules, module, None)  # import of it now raises ImportError
    with pytest.raises(DeviceUnavailable) as raised:
        opener()
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_lgpio_missing_off_a_pi_says_how_to_install_it(monkeypatch):
    from terminal.hw import gpio

    monkeypatch.setitem(sys.modules, "lgpio", None)
    gpio.pin_factory.cache_clear()
    try:
        with pytest.raises(DeviceUnavailable, match=r"python3-lgpio"):
            gpio.pin_factory("lgpio")
    finally:
        gpio.pin_factory.cache_clear()
