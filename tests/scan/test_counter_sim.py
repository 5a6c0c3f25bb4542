"""The independent counter simulator: its degradation models, deterministic from a seed."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from terminal.scan.imaging import motion_kernel, sharpness
from terminal.sim import degrade
from terminal.sim.counter import CATEGORIES, Take, draw_take, empty_take, render_take
from terminal.sim.dataset import SPLITS, counter_frames, token_text

QR_TEXT = token_text(np.random.default_rng(0), barcode=False)
BARCODE_TEXT = token_text(np.random.default_rng(0), barcode=True)


def test_our_tokens_have_their_real_shapes():
    assert QR_TEXT.startswith("EU1:") and len(QR_TEXT) == 148
    assert BARCODE_TEXT.isdigit() and BARCODE_TEXT.startswith("97") and len(BARCODE_TEXT) >= 21


@pytest.mark.parametrize("category", CATEGORIES)
def test_each_category_is_deterministic_from_its_seed(category):
    take = draw_take(category, QR_TEXT, "QRCode", 11)
    assert take == draw_take(category, QR_TEXT, "QRCode", 11)
    assert take != draw_take(category, QR_TEXT, "QRCode", 12)
    frame = render_take(take, 5)
    assert frame.shape == (480, 640) and frame.dtype == np.uint8
    assert np.array_equal(frame, render_take(take, 5))
    assert not np.array_equal(frame, render_take(take, 6))  # sensor noise differs per frame


def test_splits_are_different_frames_of_the_same_models():
    tuning = next(counter_frames("defocus", 1, SPLITS["tuning"]))
    unseen = next(counter_frames("defocus", 1, SPLITS["unseen"]))
    assert tuning.expected != unseen.expected
    assert not np.array_equal(tuning.gray, unseen.gray)
    again = next(counter_frames("defocus", 1, SPLITS["tuning"]))
    assert np.array_equal(tuning.gray, again.gray) and tuning.expected == again.expected


def _straightness(kernel: np.ndarray) -> float:
    """Smallest over largest principal spread of a kernel's mass: 0 for a straight line."""
    ys, xs = np.nonzero(kernel)
    weights = kernel[ys, xs]
    points = np.stack([xs, ys], axis=1).astype(float)
    centred = points - (points * weights[:, None]).sum(0) / weights.sum()
    spread = np.linalg.eigvalsh((centred * weights[:, None]).T @ centred)
    return spread[0] / spread[1]


def _unevenness(kernel: np.ndarray) -> float:
    weights = kernel[kernel > 0]
    return float(weights.std() / weights.mean())


def test_hand_paths_are_curved_and_uneven_unlike_a_straight_line_kernel():
    kernels = [degrade.hand_path_kernel(np.random.default_rng(s), 14.0, 0.25) for s in range(20)]
    for kernel in kernels:
        assert kernel.sum() == pytest.approx(1.0, abs=1e-5) and kernel.min() >= 0
    # A shaking hand bends the path (a line's mass has no second direction) ...
    assert min(_straightness(k) for k in kernels) > 0.04
    # ... and dwells unevenly along it: its weights vary far more than a straight line's do.
    line = motion_kernel(14.0, 30.0)
    assert all(_unevenness(k) > 1.5 * _unevenness(line) for k in kernels)
    steady = degrade.hand_path_kernel(np.random.default_rng(1), 14.0, 0.0)
    assert _straightness(steady) < 0.02  # with no shake the path is straight (1 px wide)


def test_defocus_is_a_disc_with_a_bright_rim():
    kernel = degrade.defocus_kernel(3.0)
    centre = kernel.shape[0] // 2
    assert kernel.sum() == pytest.approx(1.0, abs=1e-6)
    assert kernel[centre, centre + 2] > kernel[centre, centre] > 0  # rim brighter than centre
    assert kernel[centre, centre + 4] == 0 == kernel[0, 0]  # nothing outside the disc


def test_rolling_shutter_shears_later_rows_further():
    map_x, map_y = degrade.rolling_shutter_maps((480, 640), 48.0, 0.0, 0.0, 1000.0, 0.0)
    assert map_x[0, 100] == pytest.approx(100.0)
    assert map_x[240, 100] == pytest.approx(100.0 - 24.0)
    assert np.array_equal(map_y[:, 0], np.arange(480, dtype=np.float32))


def test_refresh_bands_darken_rows_by_at_most_their_depth():
    rows = degrade.refresh_bands(480, 60.0, 0.5, 0.6, 0.0).ravel()
    assert rows.max() == pytest.approx(1.0, abs=0.01) and rows.min() == pytest.approx(0.4, abs=0.01)
    assert np.argmin(rows) != np.argmax(rows)  # they alternate: not one dark block


def test_pixel_grid_keeps_the_screens_brightness():
    screen = np.random.default_rng(3).uniform(0, 1, (10, 12, 3)).astype(np.float32)
    for stripes in (True, False):
        grid = degrade.pixel_grid(screen, 4, 0.6, stripes)
        assert grid.shape == (40, 48, 3)
        means = grid.reshape(10, 4, 12, 4, 3).mean(axis=(1, 3))
        assert np.allclose(means, screen, atol=1e-5)
        assert (grid == 0).any()  # the dark gaps between pixels


def test_bloom_spreads_only_what_is_over_full_scale():
    image = np.full((40, 40, 3), 100, np.float32)
    assert np.array_equal(degrade.bloom(image, 3.0, 0.5), image)
    image[20, 20] = 2000
    spread = degrade.bloom(image, 3.0, 0.5)
    assert spread[20, 25, 0] > 100 and spread[0, 0, 0] == pytest.approx(100, abs=0.01)


def test_mjpeg_at_cheap_camera_quality_loses_detail():
    rng = np.random.default_rng(4)
    bgr = cv2.resize(rng.uniform(0, 255, (60, 80, 3)).astype(np.float32), (320, 240))
    clean = degrade.camera_output(bgr, 1.0, 0.0, 0)
    cheap = degrade.camera_output(bgr, 1.0, 0.0, 25)
    assert clean.shape == cheap.shape == (240, 320)
    assert 1.0 < np.abs(clean.astype(int) - cheap).mean() < 20


def test_strength_of_each_model_shows_in_the_frame():
    base = Take(text=QR_TEXT, read_noise=0.5, shot_noise=0.0)
    sharp = render_take(base, 1)
    blurred = render_take(dataclasses.replace(base, defocus_px=3.0), 1)
    moved = render_take(dataclasses.replace(base, motion_px=15.0, shake=0.3), 1)
    centre = (slice(150, 330), slice(230, 410))
    assert sharpness(blurred[centre]) < 0.6 * sharpness(sharp[centre])
    assert sharpness(moved[centre]) < 0.6 * sharpness(sharp[centre])
    bright = render_take(dataclasses.replace(base, screen_gain=2.4), 1)
    assert (bright[centre] == 255).mean() > 0.3 > (sharp[centre] == 255).mean()


def test_empty_takes_show_no_code():
    takes = [empty_take(seed) for seed in range(40)]
    assert {take.screen for take in takes} == {"home", "wallet", "nobody"}
    assert all(take.phone == (take.screen != "nobody") for take in takes)
    assert all(take.text is None for take in takes)
