"""The scripted input plays timed keys against the caller's clock and taps on on-screen keys."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.keys import Key
from terminal.hw.device import DeviceUnavailable
from terminal.hw.layout import Layout
from terminal.sim.input import ScriptedInput, parse_script


def test_keys_arrive_when_their_time_has_come():
    script = ScriptedInput([(0.0, Key.D1), (0.5, Key.D2), (0.5, Key.ENTER)])
    assert [e.key for e in script.events(10.0)] == [Key.D1]
    assert script.events(10.4) == []
    assert [(e.key, e.at) for e in script.events(10.5)] == [(Key.D2, 10.5), (Key.ENTER, 10.5)]
    assert script.done


def test_a_tap_lands_on_the_current_screens_key():
    layout = Layout((320, 240))
    script = ScriptedInput([])
    script.set_targets(layout.keypad_targets(top=0))
    script.tap(310, 230)
    assert [e.key for e in script.events(0.0)] == [Key.ENTER]


def test_a_script_file_is_parsed_with_comments(tmp_path):
    path = tmp_path / "keys.txt"
    path.write_text("# amount then pay\n0.2 1\n0.4 00\n\n1.0 enter  # pay\n", encoding="utf-8")
    script = ScriptedInput.from_file(path)
    assert script.steps == [(0.2, Key.D1), (0.4, Key.DOUBLE_ZERO), (1.0, Key.ENTER)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.5", "SECONDS KEY"),
        ("x 1", "could not convert"),
        ("1 ok", "unknown key"),
        ("1 1\n0.5 2", "backwards"),
    ],
)
def test_a_bad_line_is_named(text, message):
    with pytest.raises(DeviceUnavailable, match=message):
        parse_script(text, "keys.txt")


@given(st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(list(Key))), max_size=20))
def test_written_scripts_parse_back(steps):
    steps = sorted(steps, key=lambda step: step[0])
    text = "\n".join(f"{ms / 1000} {key.value}" for ms, key in steps)
    assert parse_script(text) == [(ms / 1000, key) for ms, key in steps]
