"""evdev key and touch mapping with synthetic kernel events (no device needed)."""

import pytest
from evdev import InputEvent, ecodes
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.keys import Key
from terminal.hw.device import DeviceUnavailable
from terminal.hw.evdev_input import (
    Calibration,
    EvdevKeypad,
    TouchTracker,
    build_key_map,
    translate,
)
from terminal.hw.layout import Layout


def key_event(name: str, value: int) -> InputEvent:
    return InputEvent(0, 0, ecodes.EV_KEY, ecodes.ecodes[name], value)


def test_presses_map_releases_and_repeats_do_not():
    codes = build_key_map((), ecodes)
    assert translate(key_event("KEY_KP7", 1), codes, ecodes) is Key.D7
    assert translate(key_event("KEY_KP7", 0), codes, ecodes) is None  # release
    assert translate(key_event("KEY_KP7", 2), codes, ecodes) is None  # auto-repeat
    assert translate(key_event("KEY_KPENTER", 1), codes, ecodes) is Key.ENTER
    assert translate(key_event("KEY_NUMLOCK", 1), codes, ecodes) is None


def test_the_configured_map_overrides_and_extends_the_built_in_one():
    codes = build_key_map(("KEY_F5=menu", "KEY_KPMINUS=backspace"), ecodes)
    assert translate(key_event("KEY_F5", 1), codes, ecodes) is Key.MENU
    assert translate(key_event("KEY_KPMINUS", 1), codes, ecodes) is Key.BACKSPACE


@pytest.mark.parametrize(
    ("pair", "message"),
    [("KEY_NOPE=7", "not an evdev key name"), ("KEY_F5=ok", "unknown key"), ("F5", "NAME=KEY")],
)
def test_a_bad_key_map_entry_names_the_setting(pair, message):
    with pytest.raises(DeviceUnavailable, match=f"input.key_map.*{message}"):
        build_key_map((pair,), ecodes)


def touch(x: int, y: int) -> list[InputEvent]:
    return [
        InputEvent(0, 0, ecodes.EV_ABS, ecodes.ABS_X, x),
        InputEvent(0, 0, ecodes.EV_ABS, ecodes.ABS_Y, y),
        InputEvent(0, 0, ecodes.EV_KEY, ecodes.BTN_TOUCH, 1),
        InputEvent(0, 0, ecodes.EV_SYN, ecodes.SYN_REPORT, 0),
        InputEvent(0, 0, ecodes.EV_ABS, ecodes.ABS_X, x + 5),  # the finger wobbles
        InputEvent(0, 0, ecodes.EV_SYN, ecodes.SYN_REPORT, 0),
        InputEvent(0, 0, ecodes.EV_KEY, ecodes.BTN_TOUCH, 0),
        InputEvent(0, 0, ecodes.EV_SYN, ecodes.SYN_REPORT, 0),
    ]


def tracker(calibration: Calibration, layout: Layout) -> TouchTracker:
    tracker = TouchTracker(calibration, layout, ecodes)
    tracker.targets = layout.keypad_targets(top=0)
    return tracker


def feed(tracker, events):
    return [key for key in map(tracker.feed, events) if key is not None]


def test_one_tap_gives_the_key_under_the_finger_once():
    layout = Layout((320, 240))
    t = tracker(Calibration(0, 4095, 0, 4095), layout)
    # Raw centre of the cell in column 2, row 1 of the 4×4 keypad: "6".
    assert feed(t, touch(int(4095 * 2.5 / 4), int(4095 * 1.5 / 4))) == [Key.D6]


def test_mirrored_and_swapped_axes_follow_the_calibration():
    layout = Layout((320, 240))
    # This panel's controller reports y along the long edge, and x from the right.
    t = tracker(Calibration(x_min=3900, x_max=200, y_min=150, y_max=3950, swap_xy=True), layout)
    # Finger at panel (40, 30): the top-left key "1".
    raw_y_for_x = 150 + round(40 / 319 * 3800)
    raw_x_for_y = 3900 - round(30 / 239 * 3700)
    assert feed(t, touch(raw_y_for_x, raw_x_for_y)) == [Key.D1]


def test_a_portrait_canvas_on_a_turned_panel_gets_the_right_key():
    layout = Layout((480, 320), 90)  # canvas 320×480
    t = tracker(Calibration(0, 479, 0, 319), layout)
    # Canvas bottom-right key ("enter") is at panel top-right turned: panel (x small, y large).
    cx, cy = 300, 460
    px, py = layout.canvas[1] - 1 - cy, cx  # inverse of panel_to_canvas for 90°
    assert layout.panel_to_canvas(px, py) == (cx, cy)
    assert feed(t, touch(px, py)) == [Key.ENTER]


def test_a_tap_outside_any_key_gives_nothing():
    layout = Layout((320, 240))
    t = TouchTracker(Calibration(0, 4095, 0, 4095), layout, ecodes)
    t.targets = layout.keypad_targets(top=120)
    assert feed(t, touch(100, 100)) == []


@given(
    raw=st.tuples(st.integers(-5000, 70000), st.integers(-5000, 70000)),
    edges=st.tuples(*[st.integers(0, 65535)] * 4).filter(lambda e: e[0] != e[1] and e[2] != e[3]),
    swap=st.booleans(),
)
def test_any_reading_lands_on_the_panel(raw, edges, swap):
    x, y = Calibration(*edges, swap_xy=swap).to_panel(*raw, (800, 480))
    assert 0 <= x < 800 and 0 <= y < 480


def test_an_absent_keypad_names_the_path_and_where_to_look(tmp_path):
    with pytest.raises(DeviceUnavailable, match=r"event9 does not exist.*by-id"):
        EvdevKeypad(str(tmp_path / "event9"))


@pytest.mark.hardware
def test_a_virtual_keypad_through_uinput_is_grabbed_and_read():
    import os
    import time

    if not os.access("/dev/uinput", os.W_OK):
        pytest.skip("/dev/uinput is not writable here (sudo modprobe uinput; run as root)")

    from evdev import UInput

    with UInput({ecodes.EV_KEY: [ecodes.KEY_KP1, ecodes.KEY_KPENTER]}, name="qr-test-pad") as ui:
        keypad = EvdevKeypad(ui.device.path, grab=True)
        try:
            for code in (ecodes.KEY_KP1, ecodes.KEY_KPENTER):
                ui.write(ecodes.EV_KEY, code, 1)
                ui.write(ecodes.EV_KEY, code, 0)
                ui.syn()
            got = []
            deadline = time.monotonic() + 2
            while len(got) < 2 and time.monotonic() < deadline:
                got += [e.key for e in keypad.events(0.0)]
            assert got == [Key.D1, Key.ENTER]
            assert keypad.check().found["grabbed"] == "yes"
        finally:
            keypad.close()
