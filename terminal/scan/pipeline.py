"""The decode pipeline: a cheap first pass, then repairs only where a code is likely but unread.

Most frames at a counter hold no code, so the first pass must be cheap: zxing-cpp restricted to
QR + Code128, without its 90° re-scan and inverted-image passes. When it finds nothing, a texture
gate (dense dark/light transitions with contrast, in a code-sized window) decides whether a code
is likely; only then do the repairs run, cheapest first, stopping at the first code read:

1. rotate so the dominant edges are upright (1-D barcodes tilted past what zxing scans);
2. ZBar on the region (better than zxing under glare and moiré);
3. unsharp mask (defocus), then 2× upscale (small or dim codes);
4. Wiener deconvolution along the estimated motion direction (a moving hand).

Each step was kept because `scripts/bench scan` showed it decoding frames the others did not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from terminal.scan.decoders import FORMATS, Decoded, load_backends
from terminal.scan.imaging import dominant_edge_angle, motion_kernel, rotate, unsharp, wiener

log = logging.getLogger(__name__)

GATE_SCALE = 2  # the gate looks at a half-size frame
GATE_WINDOW = 25  # px at half size: about the smallest code we expect (50 px in the frame)
GATE_THRESHOLD = 0.36  # see scripts/bench scan: empty frames rarely reach it, unread codes do
MOTION_LENGTHS = (6.0, 9.0, 12.0, 15.0)  # px: blur lengths tried by the deconvolution


@dataclass
class PipelineStats:
    """What the pipeline did with one frame: which step read it and what it cost."""

    step: str = "none"  # first, rotate, zbar, sharpen, upscale, deblur, or none
    gated: bool = False  # the repairs ran
    gate_score: float = 0.0
    ms: float = 0.0


@dataclass
class ScanResult:
    codes: list[Decoded]
    stats: PipelineStats = field(default_factory=PipelineStats)


def _gray(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 3:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return frame


def gate(gray: np.ndarray) -> tuple[float, tuple[int, int]]:
    """How code-like the most code-like window is (0..1), and its centre in frame pixels."""
    height, width = gray.shape
    small = cv2.resize(
        gray, (width // GATE_SCALE, height // GATE_SCALE), interpolation=cv2.INTER_AREA
    )
    as_int = small.astype(np.int16)
    dark = as_int < cv2.blur(small, (15, 15)).astype(np.int16) - 4
    across = (dark[:, 1:] != dark[:, :-1])[:-1, :].astype(np.float32)
    down = (dark[1:, :] != dark[:-1, :])[:, :-1].astype(np.float32)
    window = (GATE_WINDOW, GATE_WINDOW)
    transitions = np.maximum(cv2.boxFilter(across, -1, window), cv2.boxFilter(down, -1, window))
    values = small.astype(np.float32)
    mean = cv2.boxFilter(values, -1, window)
    spread = np.sqrt(np.maximum(cv2.boxFilter(values * values, -1, window) - mean * mean, 0))
    # Contrast matters up to about 12 grey levels: below that, transitions are sensor noise.
    score = transitions * np.minimum(spread[:-1, :-1] / 12.0, 1.0)
    y, x = np.unravel_index(int(np.argmax(score)), score.shape)
    return float(score[y, x]), (int(x) * GATE_SCALE, int(y) * GATE_SCALE)


def region(gray: np.ndarray, centre: tuple[int, int], half: int = 180) -> np.ndarray:
    """A square crop around `centre`, padded with white so a code at the edge keeps a margin."""
    x, y = centre
    height, width = gray.shape
    top, left = max(0, y - half), max(0, x - half)
    crop = gray[top : min(height, y + half), left : min(width, x + half)]
    return cv2.copyMakeBorder(crop, 16, 16, 16, 16, cv2.BORDER_REPLICATE)


class Pipeline:
    """Decodes one frame at a time; safe to call from one thread at a time."""

    def __init__(
        self,
        backends: Sequence[str] = ("zxing", "zbar", "opencv"),
        formats: Sequence[str] = FORMATS,
        gate_threshold: float = GATE_THRESHOLD,
    ):
        self.backends = load_backends(backends, formats)
        if "zxing" not in self.backends and not self.backends:
            raise RuntimeError("no decoder backend is available: pip install zxing-cpp")
        self.gate_threshold = gate_threshold
        self._zxing = self.backends.get("zxing")
        self._zbar = self.backends.get("zbar")

    def _first(self, gray: np.ndarray) -> list[Decoded]:
        if self._zxing is not None:
            return self._zxing.decode(gray, try_harder=True, try_rotate=False)
        # Without zxing-cpp, the other backends in order are the first pass.
        for backend in self.backends.values():
            found = backend.decode(gray)
            if found:
                return found
        return []

    def _repairs(self, gray: np.ndarray, centre: tuple[int, int]):
        """(step name, decode function) in the order they are tried."""
        zxing = self._zxing
        crop = region(gray, centre)
        if zxing is not None:
            yield "rotate", lambda: zxing.decode(rotate(gray, dominant_edge_angle(crop)))
        if self._zbar is not None:
            yield "zbar", lambda: self._zbar.decode(crop)
        if zxing is None:
            return
        yield "sharpen", lambda: zxing.decode(unsharp(crop))
        yield (
            "upscale",
            lambda: zxing.decode(cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)),
        )
        yield "deblur", lambda: self._deblur(crop)

    def _deblur(self, crop: np.ndarray) -> list[Decoded]:
        # A straight movement smears edges along it: the weakest gradients point that way.
        direction = dominant_edge_angle(crop) + 90.0
        for length in MOTION_LENGTHS:
            found = self._zxing.decode(wiener(crop, motion_kernel(length, direction)))
            if found:
                return found
        return []

    def decode(self, frame: np.ndarray) -> ScanResult:
        started = time.perf_counter()
        gray = _gray(frame)
        stats = PipelineStats()
        codes = self._first(gray)
        if codes:
            stats.step = "first"
        else:
            stats.gate_score, centre = gate(gray)
            if stats.gate_score >= self.gate_threshold:
                stats.gated = True
                for step, attempt in self._repairs(gray, centre):
                    codes = attempt()
                    if codes:
                        stats.step = step
                        break
        stats.ms = (time.perf_counter() - started) * 1000
        return ScanResult(codes=_unique(codes), stats=stats)


def _unique(codes: list[Decoded]) -> list[Decoded]:
    seen, result = set(), []
    for code in codes:
        if code not in seen:
            seen.add(code)
            result.append(code)
    return result
