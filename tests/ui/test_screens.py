"""Screens draw Hangul and keep the sale QR readable by a real decoder."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp

from terminal.ui.fonts import FontError, hangul_font_path
from terminal.ui.screens import message_screen, sale_qr_screen
from tests.core.test_sale_qr import signed


@pytest.mark.parametrize("size", [(480, 320), (320, 480), (800, 480)])
def test_sale_screen_qr_decodes_at_every_display_shape(size):
    payload = signed()
    image = sale_qr_screen(payload, 12000, "부평e음", "#2E7D32", size)
    assert image.size == size
    grey = np.asarray(image.convert("L"))
    assert [c.text for c in zxingcpp.read_barcodes(grey)] == [payload]


def test_message_screen_has_the_colour_and_text():
    image = message_screen("결제 완료", ["12,000원"], "#2E7D32", (480, 320))
    pixels = np.asarray(image)
    assert tuple(pixels[5, 5]) == (0x2E, 0x7D, 0x32)
    assert (pixels == 255).all(axis=2).sum() > 200  # white glyphs were drawn


def test_missing_configured_font_is_a_clear_error():
    with pytest.raises(FontError, match="no such font file"):
        hangul_font_path("/nonexistent/font.ttf")
