"""Scripted camera frames: a phone showing a code in front of a counter, for the simulated
camera's scenes (terminal/sim/camera.py). Deterministic from a seed.

The benchmark's degraded frames come from terminal/sim/counter.py, whose models are independent
of the decode pipeline's repairs; this module draws the simple shots a scripted scene needs
(a tilted phone, a hand swinging it in, glare, moiré, JPEG, light, noise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from terminal.scan.imaging import motion_kernel
from terminal.ui.codeimage import code128_modules, qr_modules


@dataclass(frozen=True)
class PhoneShot:
    """Where the phone is and what is wrong with the picture. Sizes are in frame pixels."""

    text: str | None  # None: the phone (if any) shows no code
    symbology: str = "QRCode"  # or "Code128"
    centre: tuple[float, float] = (320.0, 240.0)
    code_width: float = 200.0  # width of the code on screen, quiet zone excluded
    rotation_deg: float = 0.0  # in the image plane
    tilt: tuple[float, float] = (0.0, 0.0)  # perspective foreshortening of x and y, 0..0.4
    phone_visible: bool = True
    gaussian_sigma: float = 0.0
    motion: tuple[float, float] = (0.0, 0.0)  # blur length in px, direction in degrees
    jpeg_quality: int = 0  # 0: no JPEG round trip
    light: tuple[float, float] = (1.0, 0.0)  # contrast gain, brightness offset
    glare: float = 0.0  # peak added brightness of a reflection, 0..255
    moire: float = 0.0  # amplitude of screen-grid interference, 0..1
    noise_sigma: float = 2.0
    extra: dict = field(default_factory=dict)


def _background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A counter: smooth shading, boxes and edges, a printed label; never a code."""
    height, width = size
    small = rng.normal(0, 1, (height // 64 + 2, width // 64 + 2)).astype(np.float32)
    shade = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    image = rng.uniform(90, 170) + 22 * shade
    for _ in range(rng.integers(1, 4)):  # boxes, a card reader, a cup seen from above
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(30, 200)), int(rng.integers(30, 160))
        cv2.rectangle(image, (x, y), (x + w, y + h), float(rng.uniform(30, 230)), -1)
    for _ in range(rng.integers(1, 4)):
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(10, 80)), int(rng.integers(10, 80)))
        cv2.ellipse(
            image, centre, axes, float(rng.uniform(0, 180)), 0, 360, float(rng.uniform(30, 230)), -1
        )
    for _ in range(rng.integers(1, 5)):  # cables and counter edges
        x1, y1 = int(rng.integers(0, width)), int(rng.integers(0, height))
        x2, y2 = int(rng.integers(0, width)), int(rng.integers(0, height))
        cv2.line(image, (x1, y1), (x2, y2), float(rng.uniform(40, 220)), int(rng.integers(1, 6)))
    if rng.random() < 0.5:  # a printed price label: text is the texture most like a code
        label = np.full((64, 156), 235, dtype=np.uint8)
        for row in range(2):
            words = "".join(rng.choice(list("ABCDEF0123456789 "), 9))
            cv2.putText(label, words, (6, 24 + row * 30), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 40, 2)
        x, y = int(rng.integers(0, width - 156)), int(rng.integers(0, height - 64))
        image[y : y + 64, x : x + 156] = label
    return image


def _screen(shot: PhoneShot) -> tuple[np.ndarray, float]:
    """The phone face (bezel, white screen, code) and how many pixels one code module spans."""
    if shot.text is None:  # a phone showing its home screen: blank where a code would be
        modules = np.zeros((41, 41) if shot.symbology == "QRCode" else (1, 160), dtype=bool)
    elif shot.symbology == "QRCode":
        modules = qr_modules(shot.text, "M")
    else:
        modules = code128_modules(shot.text)[None, :]
    scale = 8  # draw large, then let the perspective warp shrink it: smooth edges like a lens
    cols = modules.shape[1]
    code = np.where(modules, 30, 245).astype(np.float32)
    if shot.symbology == "Code128" and shot.text is not None:
        code = np.repeat(code, max(1, cols // 3), axis=0)
    code = np.repeat(np.repeat(code, scale, axis=0), scale, axis=1)
    if shot.text is None:
        code[:] = 245
    quiet = 4 if shot.symbology == "QRCode" else 10
    pad = quiet * scale
    screen_w = code.shape[1] + 2 * pad
    # Portrait for a QR; a barcode is shown on a phone turned sideways.
    aspect = 1.6 if shot.symbology == "QRCode" else 0.62
    screen_h = int(max(code.shape[0] + 2 * pad, screen_w * aspect))
    bezel = max(4, screen_w // 14)
    face = np.full((screen_h + 2 * bezel, screen_w + 2 * bezel), 25, dtype=np.float32)
    face[bezel : bezel + screen_h, bezel : bezel + screen_w] = 245
    top = bezel + (screen_h - code.shape[0]) // 2
    face[top : top + code.shape[0], bezel + pad : bezel + pad + code.shape[1]] = code
    return face, shot.code_width / code.shape[1]


def render(
    shot: PhoneShot,
    seed: int,
    size: tuple[int, int] = (480, 640),
    background_seed: int | None = None,
) -> np.ndarray:
    """One greyscale frame (uint8, height × width) of `shot`, deterministic for `seed`.

    `background_seed` fixes the counter behind the phone, as a fixed camera sees it while the
    sensor noise still changes from frame to frame.
    """
    rng = np.random.default_rng(seed)
    counter = rng if background_seed is None else np.random.default_rng(background_seed)
    image = _background(counter, size)
    if shot.phone_visible:
        face, factor = _screen(shot)
        h, w = face.shape
        corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        half = np.float32([[-w, -h], [w, -h], [w, h], [-w, h]]) * 0.5 * factor
        # Foreshorten the far side, as a phone turned sideways (tx) or tipped back (ty) looks.
        tx, ty = shot.tilt
        side, end = np.sign(half[:, 0]), np.sign(half[:, 1])
        half[:, 1] *= 1 - tx * side * 0.5
        half[:, 0] *= 1 + ty * end * 0.5
        angle = np.deg2rad(shot.rotation_deg)
        rotate = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        target = half @ rotate.T + np.float32(shot.centre)
        matrix = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
        warped = cv2.warpPerspective(face, matrix, (size[1], size[0]), flags=cv2.INTER_AREA)
        mask = cv2.warpPerspective(
            np.ones_like(face), matrix, (size[1], size[0]), flags=cv2.INTER_LINEAR
        )
        if shot.moire:
            yy, xx = np.mgrid[0 : size[0], 0 : size[1]].astype(np.float32)
            period = shot.extra.get("moire_period", 7.3)
            wave = np.sin((xx * np.cos(0.3) + yy * np.sin(0.3)) * 2 * np.pi / period)
            warped = warped * (1 - shot.moire * 0.5 * (1 + wave))
        if shot.glare:
            gx, gy = shot.extra.get("glare_at", shot.centre)
            radius = shot.extra.get("glare_radius", shot.code_width * 0.35)
            yy, xx = np.mgrid[0 : size[0], 0 : size[1]].astype(np.float32)
            spot = np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * radius**2))
            warped = warped + shot.glare * spot
        image = image * (1 - mask) + warped * mask
    if shot.motion[0] > 1:
        image = _motion_blur(image, *shot.motion)
    if shot.gaussian_sigma:
        image = cv2.GaussianBlur(image, (0, 0), shot.gaussian_sigma)
    gain, offset = shot.light
    image = image * gain + offset
    image = image + rng.normal(0, shot.noise_sigma, image.shape)
    frame = np.clip(image, 0, 255).astype(np.uint8)
    if shot.jpeg_quality:
        _, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, shot.jpeg_quality])
        frame = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    return frame


def _motion_blur(image: np.ndarray, length: float, direction_deg: float) -> np.ndarray:
    return cv2.filter2D(image, -1, motion_kernel(length, direction_deg))
