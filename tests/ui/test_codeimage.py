"""Rendered codes decode back exactly with real decoders, at integer module size."""

from __future__ import annotations

import numpy as np
import pytest
import zxingcpp

from terminal.core.sale_qr import verify_sale_qr
from terminal.ui.codeimage import RenderError, qr_backends, render_code128, render_qr
from tests.core.test_sale_qr import NOW, SALE, signed
from tests.keys import device_check

PAYLOADS = ["HELLO", "부평e음 혜택플러스 12,000원", "EU1:" + "ABC123 $%*+-./:" * 9, "x" * 400]


def zxing_texts(image) -> list[str]:
    formats = (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)
    return [r.text for r in zxingcpp.read_barcodes(np.asarray(image), formats=formats)]


@pytest.mark.parametrize("backend", ["zxing", "segno"])
@pytest.mark.parametrize("text", PAYLOADS)
def test_rendered_qr_decodes_back_exactly(backend, text):
    assert backend in qr_backends()
    image = render_qr(text, 480, backend=backend)
    assert image.size == (480, 480) and image.mode == "L"
    pixels = np.asarray(image)
    assert set(np.unique(pixels)) <= {0, 255}  # crisp: no grey edges
    assert zxing_texts(image) == [text]


def test_rendered_qr_also_decodes_with_zbar_and_opencv():
    cv2 = pytest.importorskip("cv2")
    pyzbar = pytest.importorskip("pyzbar.pyzbar")
    text = "00020101021226490015kr.incheon.eeum"
    image = render_qr(text, 300)
    assert [r.data.decode() for r in pyzbar.decode(image)] == [text]
    assert cv2.QRCodeDetector().detectAndDecode(np.asarray(image))[0] == text


def test_quiet_zone_is_kept_and_modules_are_whole_pixels():
    image = np.asarray(render_qr("HELLO", 200))
    dark_rows = np.where((image == 0).any(axis=1))[0]
    dark_cols = np.where((image == 0).any(axis=0))[0]
    symbol = dark_rows[-1] - dark_rows[0] + 1
    assert symbol % 21 == 0  # version 1: 21 modules of equal whole-pixel size
    module = symbol // 21
    assert dark_rows[0] >= 4 * module and 200 - dark_rows[-1] - 1 >= 4 * module
    assert dark_cols[0] >= 4 * module


def test_too_small_or_too_long_is_refused():
    with pytest.raises(RenderError, match="do not fit"):
        render_qr("x" * 400, 60)
    with pytest.raises(RenderError, match="cannot encode"):
        render_qr("x" * 5000, 480)


def test_code128_decodes_back_exactly():
    image = render_code128("97123456789012345674", 480, 120)
    assert zxing_texts(image) == ["97123456789012345674"]


def test_sale_qr_for_12000_won_survives_png_and_a_real_decoder(tmp_path):
    payload = signed()
    path = tmp_path / "sale.png"
    render_qr(payload, 480).save(path)
    from PIL import Image

    decoded = zxing_texts(Image.open(path))
    assert decoded == [payload]
    assert verify_sale_qr(decoded[0], device_check, NOW) == SALE
