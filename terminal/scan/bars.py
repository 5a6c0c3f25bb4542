"""Scanline fusion for 1-D barcodes: many noisy rows of a barcode become one clean profile.

A Code128 symbol carries all its information across the bars; every row through it repeats the
same profile. Once the bars stand upright, the median of the rows through the barcode's middle
keeps that profile and drops what differs from row to row: sensor noise, JPEG blocks, a screen's
refresh bands (constant along a row), a finger over part of the bars' height. Whatever blurred
the frame (a curved hand path, a lens out of focus) is, across the bars, a 1-D blur of unknown
shape; a 1-D Wiener deconvolution is so cheap that trying a family of shapes (boxes, Gaussians,
projected discs) costs less than one 2-D attempt. Each candidate profile is drawn as a small
image with quiet zones for zxing-cpp.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from terminal.scan.imaging import dominant_edge_angle

SCALE = 2  # profiles are upsampled 2× before deconvolution: narrow bars keep their width
# 1-D blur shapes tried, widths in frame pixels: a box (straight or curved movement projected
# across the bars), a Gaussian (a soft lens), a projected disc (defocus). Noise-to-signal 0.02.
SHAPES = (
    ("box", (3, 5, 7, 9, 11, 13, 15)),
    ("gauss", (1.0, 1.5, 2.0, 3.0)),
    ("disc", (1.5, 2.2, 3.0, 3.8)),
)
NOISE_RATIO = 0.02
# Fewest dark runs a fused profile must show: the shortest Code128 (one character) has 10 bars;
# text, cables and app icons give fewer across a line.
MIN_BARS = 10


def upright(gray: np.ndarray, centre: tuple[int, int], half: int = 200):
    """The frame rotated so the edges around `centre` stand vertical, and where `centre` went."""
    height, width = gray.shape
    x, y = centre
    around = gray[max(0, y - half) : y + half, max(0, x - half) : x + half]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), dominant_edge_angle(around), 1.0)
    turned = cv2.warpAffine(gray, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=255)
    cx, cy = matrix @ np.array([x, y, 1.0])
    return turned, (int(np.clip(cx, 0, width - 1)), int(np.clip(cy, 0, height - 1)))


def _extent(energy: np.ndarray, start: int, threshold: float, gap: int) -> tuple[int, int]:
    """The run around `start` where `energy` stays above `threshold` (gaps up to `gap` allowed)."""
    low = high = start
    for step in (-1, 1):
        position, missing = start, 0
        while 0 < position < len(energy) - 1 and missing <= gap:
            position += step
            missing = 0 if energy[position] > threshold else missing + 1
        edge = position - step * missing
        low, high = (edge, high) if step < 0 else (low, edge)
    return low, high


def bar_box(turned: np.ndarray, centre: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the barcode around `centre` in an upright frame: rows and
    columns where horizontal gradients are strong. None when there is no bar-like band."""
    gradient = np.abs(cv2.Sobel(turned, cv2.CV_32F, 1, 0, ksize=3))
    x, y = centre
    rows = gradient[:, max(0, x - 120) : x + 120].mean(axis=1)
    rows = cv2.GaussianBlur(rows[None, :], (0, 0), 3).ravel()
    peak = rows[max(0, y - 40) : y + 40].max()
    if peak <= 0:
        return None
    top, bottom = _extent(rows, y, 0.5 * peak, 0)
    if bottom - top < 8:
        return None
    columns = cv2.blur(gradient[top : bottom + 1].mean(axis=0)[None, :], (25, 1)).ravel()
    peak = columns[max(0, x - 40) : x + 40].max()
    left, right = _extent(columns, x, 0.3 * peak, 12)
    return top, bottom, left, right


def _bar_count(profile: np.ndarray) -> int:
    """Dark runs in a 0..255 profile, against its local mean (a blurred bar still counts)."""
    local = cv2.blur(profile[None, :], (31, 1)).ravel()
    dark = profile < local - 8
    return int(np.count_nonzero(dark[1:] & ~dark[:-1]))


def _kernel(shape: str, width: float, length: int) -> np.ndarray:
    """A centred, normalised 1-D blur of `shape` and `width` (upsampled px), wrapped for FFT."""
    offsets = np.minimum(np.arange(length), length - np.arange(length)).astype(np.float64)
    if shape == "box":
        kernel = (offsets <= width / 2).astype(np.float64)
    elif shape == "gauss":
        kernel = np.exp(-(offsets**2) / (2 * width**2))
    else:  # a disc of radius `width` seen edge-on: a half ellipse
        kernel = np.sqrt(np.clip(1 - (offsets / width) ** 2, 0, None))
    return kernel / kernel.sum()


def located(gray: np.ndarray, centre: tuple[int, int]):
    """(upright frame, barcode box in it) near `centre`, or None when nothing bar-like is."""
    turned, centre = upright(gray, centre)
    box = bar_box(turned, centre)
    return None if box is None else (turned, box)


def enlarged(turned: np.ndarray, box: tuple[int, int, int, int], factor: int) -> np.ndarray:
    """The barcode's band of the upright frame, enlarged `factor` times (cubic): narrow bars of
    1–2 px get enough pixels for zxing's edge finder. The band is the full barcode, however
    long (a crop around the gate's window would cut a 24-digit code)."""
    top, bottom, left, right = box
    band = turned[max(0, top - 8) : bottom + 9, max(0, left - 40) : right + 41]
    return cv2.resize(band, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)


def fused_profile(turned: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """The median of the rows through the barcode's middle, stretched to 0..255, with 20 px of
    what lies beyond each end; None when it shows too few bars to be a barcode."""
    top, bottom, left, right = box
    inner = max(2, (bottom - top) // 5)  # the middle rows: a tilt bends the bars' ends most
    rows = turned[top + inner : bottom - inner + 1, max(0, left - 20) : right + 21]
    if rows.shape[0] < 3 or rows.shape[1] < 40:
        return None
    fused = np.median(rows, axis=0).astype(np.float32)
    low, high = np.percentile(fused, (3, 97))
    fused = (fused - low) * (255.0 / max(1.0, high - low))
    if _bar_count(fused) < MIN_BARS:
        return None  # not a barcode (text, a cable, icons): the deconvolutions would read nothing
    return fused


def profiles(fused: np.ndarray) -> Iterator[np.ndarray]:
    """Candidate clean profiles from a fused one: itself upsampled, then deblurred."""
    profile = cv2.resize(fused[None, :], (len(fused) * SCALE, 1), interpolation=cv2.INTER_CUBIC)
    profile = profile.ravel().astype(np.float64)
    yield profile
    pad = 64  # edge-extended ends: the FFT's wrap-around must not ring into the bars
    length = len(profile) + 2 * pad
    spectrum = np.fft.rfft(np.pad(profile, pad, mode="edge"))
    for shape, widths in SHAPES:
        for width in widths:
            transfer = np.fft.rfft(_kernel(shape, width * SCALE, length))
            restored = np.fft.irfft(
                spectrum * np.conj(transfer) / (np.abs(transfer) ** 2 + NOISE_RATIO), length
            )
            yield restored[pad:-pad]


def as_image(profile: np.ndarray, height: int = 24) -> np.ndarray:
    """A profile drawn as an image of `height` identical rows with white quiet zones."""
    rows = np.clip(np.tile(profile, (height, 1)), 0, 255).astype(np.uint8)
    return cv2.copyMakeBorder(rows, 8, 8, 40, 40, cv2.BORDER_CONSTANT, value=255)
