"""The headless display keeps each distinct frame in memory and writes it as a PNG."""

import pytest
from PIL import Image

from terminal.hw.layout import Layout
from terminal.sim.display import HeadlessDisplay


def test_distinct_frames_are_kept_and_written_repeats_are_not(tmp_path):
    layout = Layout((320, 240), 90)
    display = HeadlessDisplay(layout, tmp_path / "screens")
    red = Image.new("RGB", layout.canvas, "red")
    assert display.show(red)
    assert not display.show(red.copy())
    assert display.show(Image.new("RGB", layout.canvas, "blue"))
    assert [p.name for p in display.written] == ["frame-00001.png", "frame-00002.png"]
    assert Image.open(display.written[0]).getpixel((5, 5)) == (255, 0, 0)
    assert display.last.getpixel((0, 0)) == (0, 0, 255)
    assert display.check().found == {"size": "240×320", "frames": "2"}


def test_a_frame_of_the_wrong_size_is_refused():
    display = HeadlessDisplay(Layout((480, 320)))
    with pytest.raises(ValueError, match="canvas"):
        display.show(Image.new("RGB", (320, 240)))
    assert display.frames == []
