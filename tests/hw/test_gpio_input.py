"""The GPIO matrix keypad and buttons on gpiozero's MockFactory: a simulated membrane connects
rows to columns, and the pins' state history shows how the keypad was scanned."""

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from terminal.core.keys import Key
from terminal.hw.device import DeviceUnavailable
from terminal.hw.gpio_input import GpioButtons, MatrixKeypad
from tests.hw.membrane import Membrane

ROWS, COLS = [5, 6, 13, 19], [12, 16, 20, 21]
KEYS = ["1", "2", "3", "cancel", "4", "5", "6", "clear", "7", "8", "9", "backspace",
        "00", "0", "menu", "enter"]  # fmt: skip


@pytest.fixture
def factory():
    factory = MockFactory(pin_class=MockPWMPin)
    yield factory
    factory.reset()


@pytest.fixture
def keypad(factory):
    membrane = Membrane(factory, ROWS, COLS)
    keypad = MatrixKeypad(ROWS, COLS, KEYS, factory)
    membrane.settle()
    yield keypad, membrane
    keypad.close()


def keys(events):
    return [event.key for event in events]


def test_a_key_counts_after_two_scans_and_once_while_held(keypad):
    keypad, membrane = keypad
    membrane.press(1, 1)  # "5"
    assert keys(keypad.events(0.00)) == []  # one reading could be a bounce
    assert keys(keypad.events(0.02)) == [Key.D5]
    assert keys(keypad.events(0.04)) == []  # held: not repeated
    membrane.release(1, 1)
    assert keys(keypad.events(0.06)) == []
    membrane.press(1, 1)
    keypad.events(0.08)
    assert [(e.key, e.at, e.source) for e in keypad.events(0.10)] == [(Key.D5, 0.10, "gpio")]


def test_a_bounce_shorter_than_a_scan_is_ignored(keypad):
    keypad, membrane = keypad
    membrane.press(3, 3)
    keypad.events(0.0)
    membrane.release(3, 3)
    assert keys(keypad.events(0.02)) == []


def test_every_position_reads_as_its_configured_key(keypad):
    keypad, membrane = keypad
    for index, name in enumerate(KEYS):
        row, col = divmod(index, 4)
        membrane.press(row, col)
        keypad.events(index)
        assert [event.key.value for event in keypad.events(index + 0.5)] == [name]
        membrane.release(row, col)
        keypad.events(index + 0.7)


def test_rows_are_driven_low_one_at_a_time_and_left_high(keypad, factory):
    keypad, _ = keypad
    row_pins = [factory.pin(pin) for pin in ROWS]
    for pin in row_pins:
        pin.clear_states()
    keypad.events(0.0)
    for pin in row_pins:
        assert [state.state for state in pin.states] == [1, 0, 1]  # idle, scanned, idle
    assert all(factory.pin(pin).pull == "up" for pin in COLS)


def test_a_wrong_number_of_keys_names_the_setting(factory):
    with pytest.raises(DeviceUnavailable, match=r"gpio.keypad_keys has 3 keys for 4 rows"):
        MatrixKeypad(ROWS, COLS, ["1", "2", "3"], factory)


def test_an_unknown_key_name_names_the_setting(factory):
    with pytest.raises(DeviceUnavailable, match=r"gpio.keypad_keys: unknown key 'ok'"):
        MatrixKeypad(ROWS, COLS, [*KEYS[:-1], "ok"], factory)


def test_buttons_post_their_key_on_press_not_release(factory):
    buttons = GpioButtons(["17=enter", "27=cancel"], factory)
    try:
        factory.pin(27).drive_low()
        factory.pin(27).drive_high()
        factory.pin(17).drive_low()
        assert keys(buttons.events(3.0)) == [Key.CANCEL, Key.ENTER]
        factory.pin(17).drive_high()
        assert buttons.events(3.1) == []
        assert buttons.check().found["GPIO17"] == "enter"
    finally:
        buttons.close()


def test_two_devices_on_one_pin_are_refused_with_the_pin(factory):
    buttons = GpioButtons(["12=enter"], factory)
    try:
        with pytest.raises(DeviceUnavailable, match=r"keypad column on GPIO12"):
            MatrixKeypad(ROWS, COLS, KEYS, factory)
    finally:
        buttons.close()


@pytest.mark.parametrize("pair", ["17", "x=enter", "17=ok"])
def test_a_bad_button_setting_is_refused(factory, pair):
    with pytest.raises(DeviceUnavailable, match=r"gpio.buttons"):
        GpioButtons([pair], factory)
