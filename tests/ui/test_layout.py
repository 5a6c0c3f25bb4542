"""Every screen at every panel size: each text fits its box, inside the panel, overlapping no
other text and no picture; the sale QR on the charge screen still decodes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import zxingcpp

from terminal.core.session import model
from terminal.ui.paint import Painter, Theme
from terminal.ui.samples import PORTRAIT_SIZES, SALE_PAYLOAD, SIZES, sample_states
from terminal.ui.screens import VIEWS, render

STATES = sample_states()
THEME = Theme()


def overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(inner, outer) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def test_every_screen_has_a_sample_and_a_view():
    screens = {type(state.screen) for state in STATES.values()}
    assert screens == set(VIEWS) == set(model.Screen.__args__)


@pytest.mark.parametrize("keypad", [False, True], ids=["keys", "touch"])
@pytest.mark.parametrize("size", SIZES + PORTRAIT_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", sorted(STATES))
def test_no_text_is_clipped_or_overlaps(name, size, keypad):
    frame = render(STATES[name], size, replace(THEME, keypad=keypad))
    drawn = frame.drawn
    assert frame.image.size == size
    assert drawn.failed == [], f"did not fit: {drawn.failed}"
    panel = (0, 0, *size)
    for text, ink, box in drawn.texts:
        assert inside(ink, box), f"{text!r} {ink} leaves its box {box}"
        assert inside(ink, panel), f"{text!r} {ink} leaves the panel"
    for i, (text_a, ink_a, _) in enumerate(drawn.texts):
        for text_b, ink_b, _ in drawn.texts[i + 1 :]:
            assert not overlaps(ink_a, ink_b), f"{text_a!r} {ink_a} overlaps {text_b!r} {ink_b}"
        for picture in drawn.pictures:
            assert not overlaps(ink_a, picture), f"{text_a!r} {ink_a} covers a code {picture}"
    for picture in drawn.pictures:
        assert inside(picture, panel)
    for target in frame.targets:
        assert inside(target.box, panel)


@pytest.mark.parametrize("size", SIZES + PORTRAIT_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_charge_screen_qr_decodes(size):
    image = render(STATES["charge"], size, THEME).image
    grey = np.asarray(image.convert("L"))
    assert [c.text for c in zxingcpp.read_barcodes(grey)] == [SALE_PAYLOAD]


def test_the_approved_screen_carries_the_digital_receipt():
    state = STATES["approved"]
    grey = np.asarray(render(state, (480, 320), THEME).image.convert("L"))
    assert [c.text for c in zxingcpp.read_barcodes(grey)] == [state.screen.receipt_text]


def test_touch_panels_get_an_on_screen_keypad():
    frame = render(STATES["amount"], (800, 480), replace(THEME, keypad=True))
    keys = [t.key.value for t in frame.targets]
    assert {"0", "5", "00", "plus", "enter", "backspace", "clear", "cancel"} <= set(keys)
    boxes = [t.box for t in frame.targets]
    assert not any(overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_soft_keys_are_touch_targets():
    frame = render(STATES["history"], (800, 480), THEME)
    assert [t.key.value for t in frame.targets] == ["F1", "F2", "F3", "F4"]


def test_the_painter_reports_text_that_cannot_fit():
    from PIL import Image

    painter = Painter(Image.new("RGB", (100, 40)), THEME)
    assert not painter.text(
        "아주 긴 문장은 이 작은 상자에 들어가지 않습니다", (0, 0, 100, 20), 12, "white"
    )
    assert painter.drawn.failed and not painter.drawn.texts


def test_issuer_colour_fills_the_status_bar():
    theme = Theme(primary="#123456")
    pixels = np.asarray(render(STATES["home"], (480, 320), theme).image)
    assert tuple(pixels[1, 1]) == (0x12, 0x34, 0x56)
