"""The pipeline's newer repairs, each on a frame built to need it: scanline fusion for a long,
tilted, noisy Code128; zxing-cpp's located-but-unread symbols as a gate; spectral whitening."""

from __future__ import annotations

import cv2
import numpy as np

from terminal.scan import bars
from terminal.scan.decoders import FORMATS, ZxingBackend
from terminal.scan.imaging import whitened
from terminal.scan.pipeline import Pipeline
from terminal.ui.codeimage import code128_modules, qr_modules

BARCODE = "970000931232906316080710"  # our numeric token's shape: 24 digits


def _barcode_frame(module_px: float, degrees: float, blur: float, noise: float) -> np.ndarray:
    modules = code128_modules(BARCODE)
    frame = np.full((480, 640), 235, np.float32)
    strip = np.where(modules, 30, 235)[None, :].astype(np.float32)
    strip = cv2.resize(strip, (int(len(modules) * module_px), 100), interpolation=cv2.INTER_AREA)
    height, width = strip.shape
    left = (640 - width) // 2
    frame[190 : 190 + height, left : left + width] = strip
    turn = cv2.getRotationMatrix2D((320, 240), degrees, 1)
    frame = cv2.warpAffine(frame, turn, (640, 480), borderValue=235)
    frame = cv2.GaussianBlur(frame, (0, 0), blur)
    frame += np.random.default_rng(1).normal(0, noise, frame.shape)
    return np.clip(frame, 0, 255).astype(np.uint8)


def test_scanline_fusion_reads_a_long_tilted_noisy_barcode_zxing_cannot():
    frame = _barcode_frame(2.2, 12.0, 1.2, 20.0)
    assert ZxingBackend(FORMATS).decode(frame) == []
    result = Pipeline().decode(frame)
    assert [c.text for c in result.codes] == [BARCODE] and result.stats.step == "bars"


def test_fused_profile_finds_the_whole_barcode_however_long():
    frame = _barcode_frame(2.2, 12.0, 0.8, 5.0)
    turned, box = bars.located(frame, (320, 240))
    top, bottom, left, right = box
    assert 60 <= bottom - top <= 110  # the bars' height (100 px), not the frame's
    assert abs((right - left) - len(code128_modules(BARCODE)) * 2.2) < 30  # ~367 px: all of it
    assert bars._bar_count(bars.fused_profile(turned, box)) >= 40


def test_a_few_edges_are_not_taken_for_a_barcode():
    counter = np.full((480, 640), 200, np.uint8)
    for x in (200, 290, 420):  # cables and a box edge: bar-like, but far too few
        cv2.line(counter, (x, 120), (x + 10, 360), 40, 6)
    turned, box = bars.located(counter, (300, 240))
    assert bars.fused_profile(turned, box) is None


def test_a_symbol_zxing_located_but_could_not_read_is_reported_where_it_is():
    modules = qr_modules("EU1:" + "A" * 144, "M")
    image = np.kron(np.where(modules, 0, 255), np.ones((5, 5))).astype(np.uint8)
    image = cv2.copyMakeBorder(image, 60, 60, 60, 60, cv2.BORDER_CONSTANT, value=255)
    damaged = image.copy()
    damaged[90:170, 110:170] = np.random.default_rng(0).integers(0, 2, (80, 60)) * 255
    codes, located = ZxingBackend(FORMATS).decode_or_locate(damaged, try_harder=False)
    assert codes == [] and located
    x, y = located[0]
    assert 60 <= x <= 265 and 60 <= y <= 265  # inside the code, not somewhere else
    assert ZxingBackend(FORMATS).decode_or_locate(image, try_harder=False)[0]


def test_whitening_sharpens_a_blurred_code_and_keeps_its_size_and_range():
    modules = qr_modules("EU1:" + "B" * 144, "M")
    image = np.kron(np.where(modules, 30, 230), np.ones((4, 4))).astype(np.float32)
    image = cv2.copyMakeBorder(image, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=230)
    blurred = cv2.GaussianBlur(image, (0, 0), 2.2).astype(np.uint8)
    sharpened = whitened(blurred)
    assert sharpened.shape == blurred.shape and sharpened.dtype == np.uint8

    def edges(picture):
        return float(np.abs(cv2.Laplacian(picture, cv2.CV_32F)).mean() / picture.std())

    assert edges(sharpened) > 1.5 * edges(blurred)
