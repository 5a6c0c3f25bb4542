"""Degradation models for simulated counter frames, each drawn from how the effect arises, not
from what the decode pipeline knows how to undo.

The pipeline repairs straight-line motion blur and Gaussian defocus; these models are wider on
purpose: a hand's path is curved and uneven in speed, defocus is a lens's disc, a rolling shutter
skews and wobbles, a phone screen clips and bands, its pixel grid aliases at the sensor, a cheap
camera sharpens and compresses in colour. Every function is deterministic in its arguments (the
randomness comes in as an explicit `np.random.Generator`).
"""

from __future__ import annotations

import cv2
import numpy as np


def hand_path_kernel(rng: np.random.Generator, length: float, shake: float) -> np.ndarray:
    """The blur a hand makes during one exposure: a curved path, uneven in speed.

    The path is a walk with momentum (the hand's inertia) whose heading turns by up to `shake`
    radians per step; its arc length is `length` px. Speed varies along it, so some points get
    more exposure than others (a hand slows before it stops). Normalised to sum 1.
    """
    steps = 64
    heading = rng.uniform(0, 2 * np.pi)
    turn = 0.0
    points = [np.zeros(2)]
    for _ in range(steps):
        turn = 0.7 * turn + rng.normal(0, shake)  # momentum: turns come in smooth runs
        heading += turn
        points.append(points[-1] + (np.cos(heading), np.sin(heading)))
    path = np.array(points)
    arc = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(path, axis=0), axis=1))])
    path *= length / arc[-1]
    speed = np.exp(rng.normal(0, 0.5, len(path)))  # time spent per step: longer where slower
    dwell = cv2.GaussianBlur(speed[None, :].astype(np.float32), (0, 0), 3).ravel()
    path -= (path * dwell[:, None]).sum(axis=0) / dwell.sum()  # centred on its mean position
    radius = int(np.ceil(np.abs(path).max())) + 2
    kernel = np.zeros((2 * radius + 1, 2 * radius + 1), np.float32)
    # Many sub-steps, each splatted bilinearly: a continuous path, not a row of dots.
    fine = np.linspace(0, len(path) - 1, 16 * len(path))
    xs = np.interp(fine, np.arange(len(path)), path[:, 0]) + radius
    ys = np.interp(fine, np.arange(len(path)), path[:, 1]) + radius
    weights = np.interp(fine, np.arange(len(path)), dwell)
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0
    for dx, dy, share in (
        (0, 0, (1 - fx) * (1 - fy)),
        (1, 0, fx * (1 - fy)),
        (0, 1, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        np.add.at(kernel, (y0 + dy, x0 + dx), share * weights)
    return kernel / kernel.sum()


def defocus_kernel(radius: float) -> np.ndarray:
    """A lens out of focus: a disc (the aperture's image) with a brighter rim, as real bokeh has,
    rather than a Gaussian."""
    size = int(np.ceil(radius)) + 1
    yy, xx = np.mgrid[-size : size + 1, -size : size + 1].astype(np.float32)
    distance = np.sqrt(xx * xx + yy * yy)
    disc = np.clip(radius + 0.5 - distance, 0, 1)  # anti-aliased edge
    disc *= 1 + 0.35 * (distance / max(radius, 1e-3)) ** 2  # spherical aberration's bright rim
    return disc / disc.sum()


def rolling_shutter_maps(
    size: tuple[int, int], skew: float, stretch: float, wobble: float, period: float, phase: float
) -> tuple[np.ndarray, np.ndarray]:
    """remap() maps for a layer seen by a rolling shutter while it moves.

    Row y is read at time y / height of the readout: a sideways movement shifts later rows
    further (`skew` px over the frame height), a vertical one stretches or squeezes the layer
    (`stretch`, a fraction), and a hand's tremor during readout bends it (`wobble` px of sideways
    sway with a `period` in rows).
    """
    height, width = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    share = yy / height
    sway = wobble * np.sin(2 * np.pi * yy / period + phase)
    map_x = xx - skew * share - sway
    map_y = yy / (1 + stretch) if stretch > -1 else yy
    return map_x.astype(np.float32), map_y.astype(np.float32)


def barrel_maps(size: tuple[int, int], k1: float) -> tuple[np.ndarray, np.ndarray]:
    """remap() maps for a wide-angle lens's barrel distortion (`k1` < 0), centre fixed."""
    height, width = size
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy, norm = width / 2, height / 2, max(width, height) / 2
    dx, dy = (xx - cx) / norm, (yy - cy) / norm
    factor = 1 + k1 * (dx * dx + dy * dy)
    return (cx + dx * factor * norm).astype(np.float32), (cy + dy * factor * norm).astype(
        np.float32
    )


def refresh_bands(
    height: int, period: float, duty: float, depth: float, phase: float
) -> np.ndarray:
    """Per-row brightness of a PWM-dimmed screen read by a rolling shutter: rows exposed while
    the backlight was off are darker. Soft-edged square wave; shape (height, 1, 1)."""
    rows = np.arange(height, dtype=np.float32)
    position = ((rows / period + phase) % 1.0).astype(np.float32)
    off = (position > duty).astype(np.float32)[None, :]
    soft = cv2.GaussianBlur(off, (0, 0), max(1.0, period * 0.08)).ravel()
    return (1 - depth * soft)[:, None, None]


def pixel_grid(screen: np.ndarray, oversample: int, fill: float, stripes: bool) -> np.ndarray:
    """A screen image (screen pixels × 3 channels) as the glass shows it up close: each screen
    pixel an `oversample`² block whose lit part covers `fill` of it, split into R, G, B stripes
    when `stripes` (LCD) or lit as one (OLED-like), with dark gaps between pixels."""
    big = np.repeat(np.repeat(screen, oversample, axis=0), oversample, axis=1)
    cell = np.zeros((oversample, oversample, 3), np.float32)
    lit = max(1, round(oversample * np.sqrt(fill)))
    if stripes:
        width = max(1, lit // 3) if lit >= 3 else 1
        for channel in range(3):  # BGR order: B, G, R stripes left to right
            start = channel * width
            cell[:lit, start : start + width, channel] = 3.0 * oversample**2 / (lit * 3 * width)
    else:
        cell[:lit, :lit, :] = oversample**2 / (lit * lit)
    tiles = (screen.shape[0], screen.shape[1], 1)
    return big * np.tile(cell, tiles)


def bloom(image: np.ndarray, sigma: float, strength: float) -> np.ndarray:
    """Light beyond the sensor's full scale spills into neighbouring pixels (lens glare and
    charge overflow): what is above 255 is spread and added back, then everything clips."""
    excess = np.maximum(image - 255.0, 0).astype(np.float32)
    return image + strength * cv2.GaussianBlur(excess, (0, 0), sigma)


def sensor_noise(
    rng: np.random.Generator, image: np.ndarray, read_sigma: float, shot_scale: float
) -> np.ndarray:
    """Shot noise (variance proportional to the signal) and read noise, per colour channel."""
    variance = cv2.max(image, 0) * np.float32(shot_scale) + np.float32(read_sigma**2)
    noise = rng.standard_normal(image.shape, dtype=np.float32)
    return image + noise * cv2.sqrt(variance)


def camera_output(bgr: np.ndarray, gamma: float, sharpen: float, jpeg_quality: int) -> np.ndarray:
    """What a cheap USB camera sends: gamma, its edge enhancement, 8 bits, colour MJPEG
    (4:2:0 chroma); the terminal then takes the luma. `jpeg_quality` 0: uncompressed."""
    linear = np.clip(bgr, 0, 255) / 255.0
    image = (linear ** (1.0 / gamma) * 255.0).astype(np.float32)
    if sharpen:
        blurred = cv2.GaussianBlur(image, (0, 0), 1.0)
        image = image + sharpen * (image - blurred)
    frame = np.clip(image, 0, 255).astype(np.uint8)
    if jpeg_quality:
        _, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        frame = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
