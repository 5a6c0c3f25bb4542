"""Display layouts: canvas size and orientation from the panel and rotation, the picture turned
consistently with where touches land, and the on-screen keypad."""

import numpy as np
import pytest
from PIL import Image

from terminal.core.keys import Key
from terminal.hw.layout import Layout, LayoutError, hit


@pytest.mark.parametrize(
    ("panel", "rotation", "canvas", "orientation"),
    [
        ((320, 240), 0, (320, 240), "landscape"),
        ((320, 240), 90, (240, 320), "portrait"),
        ((480, 320), 180, (480, 320), "landscape"),
        ((480, 320), 270, (320, 480), "portrait"),
        ((800, 480), 90, (480, 800), "portrait"),
    ],
)
def test_canvas_follows_rotation(panel, rotation, canvas, orientation):
    layout = Layout(panel, rotation)
    assert layout.canvas == canvas
    assert layout.orientation == orientation
    assert layout.preset is not None


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_every_panel_pixel_shows_the_canvas_pixel_a_touch_there_maps_to(rotation):
    layout = Layout((32 * 4, 24 * 4), rotation)
    width, height = layout.canvas
    canvas = np.random.default_rng(rotation).integers(0, 255, (height, width, 3), dtype=np.uint8)
    panel = np.asarray(layout.to_panel(Image.fromarray(canvas)))
    assert panel.shape[1::-1] == layout.panel
    for py in range(0, layout.panel[1], 7):
        for px in range(0, layout.panel[0], 5):
            cx, cy = layout.panel_to_canvas(px, py)
            assert (panel[py, px] == canvas[cy, cx]).all(), (px, py)


def test_a_quarter_turn_clockwise_puts_the_top_left_corner_top_right():
    layout = Layout((480, 320), 90)
    canvas = Image.new("RGB", layout.canvas, "black")
    canvas.putpixel((0, 0), (255, 0, 0))
    assert layout.to_panel(canvas).getpixel((479, 0)) == (255, 0, 0)


def test_keypad_targets_cover_the_canvas_below_the_header():
    layout = Layout((320, 240))
    targets = layout.keypad_targets(top=40)
    assert len(targets) == 16
    assert hit(targets, 5, 45) is Key.D1
    assert hit(targets, 319, 239) is Key.ENTER
    assert hit(targets, 100, 10) is None  # the header has no key


def test_bad_geometry_names_the_key():
    with pytest.raises(LayoutError, match=r"display\.rotation"):
        Layout((480, 320), 45)
    with pytest.raises(LayoutError, match="canvas"):
        Layout((480, 320)).to_panel(Image.new("RGB", (320, 240)))
