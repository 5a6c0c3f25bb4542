"""The window display in a real X server (Xvfb): a screenshot of the window equals the frame sent;
keys and clicks sent through the X server (xdotool, XTEST) come back as the terminal's keys."""

import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image, ImageGrab

from terminal.core.keys import Key
from terminal.hw.layout import Layout
from tests.hw.xserver import have_xvfb, xvfb

pytestmark = pytest.mark.skipif(
    not have_xvfb(), reason="Xvfb is not installed (apt-get install xvfb; scripts/setup does it)"
)


@pytest.fixture
def x_display(monkeypatch):
    with xvfb() as name:
        monkeypatch.setenv("DISPLAY", name)
        monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
        monkeypatch.setenv("SDL_VIDEO_WINDOW_POS", "0,0")  # no window manager: top-left
        yield name


def frame(size) -> Image.Image:
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    image[:20] = (0, 160, 233)  # a header band, so a misplaced window is obvious
    return Image.fromarray(image)


@pytest.mark.parametrize(("panel", "rotation"), [((320, 240), 0), ((480, 320), 90)])
def test_a_screenshot_of_the_window_is_the_frame_sent(x_display, panel, rotation):
    from terminal.hw.window import WindowDisplay

    layout = Layout(panel, rotation)
    window = WindowDisplay(layout)
    try:
        sent = frame(layout.canvas)
        assert window.show(sent)
        assert not window.show(sent.copy())  # an equal frame is not drawn again
        shot = ImageGrab.grab(xdisplay=x_display).convert("RGB")
        width, height = layout.canvas
        assert np.array_equal(np.asarray(shot.crop((0, 0, width, height))), np.asarray(sent))
        assert window.check().found["size"] == f"{width}×{height}"
    finally:
        window.close()


@pytest.mark.skipif(shutil.which("xdotool") is None, reason="xdotool is not installed")
def test_keys_and_clicks_through_the_x_server_become_terminal_keys(x_display):
    from terminal.hw.window import WindowDisplay, WindowInput

    layout = Layout((320, 240))
    window = WindowDisplay(layout)
    keys = WindowInput(window)
    try:
        keys.set_targets(layout.keypad_targets(top=40))
        window.show(frame(layout.canvas))
        env = {**os.environ, "DISPLAY": x_display}
        # Keyboard: 7, keypad 00, Enter, Escape; mouse: the on-screen "5" (row 2, column 2).
        subprocess.run(
            ["xdotool", "key", "--delay", "0", "7", "KP_Decimal", "Return", "Escape"],
            env=env,
            check=True,
            timeout=10,
        )
        subprocess.run(
            ["xdotool", "mousemove", "120", "110", "click", "1"], env=env, check=True, timeout=10
        )
        got: list[Key] = []
        for _ in range(200):  # bounded: XTEST events are queued before xdotool exits
            got += [event.key for event in keys.wait_events(now=1.0, timeout_ms=50)]
            if len(got) >= 5:
                break
        assert got == [Key.D7, Key.DOUBLE_ZERO, Key.ENTER, Key.CANCEL, Key.D5]
    finally:
        window.close()


def test_no_x_server_gives_one_clear_message(monkeypatch):
    from terminal.hw.device import DeviceUnavailable
    from terminal.hw.window import WindowDisplay

    monkeypatch.setenv("DISPLAY", ":999")
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    with pytest.raises(DeviceUnavailable, match=r"cannot open a window.*framebuffer"):
        WindowDisplay(Layout((320, 240)))
