"""The decode pipeline: a cheap first pass, then repairs only where a code is likely but unread.

Most frames at a counter hold no code, so the first pass must be cheap: zxing-cpp restricted
to QR + Code128, at one scale, without its 90° re-scan or inverted-image pass. When it finds
nothing, a texture gate on a quarter-size frame (dense dark/light transitions with contrast, in
a code-sized window) scores how likely a code is; each repair runs only when the score reaches
that repair's own minimum, cheapest and most productive first, stopping at the first code read:

1. rotate so the dominant edges are upright, then zxing-cpp's full search (tilted barcodes);
2. scanline fusion for Code128 (terminal/scan/bars.py): the upright barcode band enlarged, then
   the median of its rows, deconvolved with a family of 1-D blurs;
3. a median filter and one global threshold (modules with a picture in them), a soft low-pass
   (a phone's pixel grid aliased by the sensor), a 2× upscale (small codes), blind spectral
   whitening (blur of any shape);
4. defocus: the lens disc's radius estimated from the region's own spectrum
   (terminal/scan/blur.py) and the whole frame deconvolved with it;
5. the numeric payment barcode read by fitting blurred ideal bars to the fused profile
   (terminal/scan/numeric_bars.py): blur wider than a module leaves edge finders nothing.

ZBar on the region (a repair before) read no frame on the unseen split that no other step
read, so it went; it stays available as a backend when zxing-cpp is missing.

Steps were chosen on the tuning split of terminal/sim/counter.py (seed 1) and kept only when they
added reads on a split not used for tuning; the minimums keep them off nearly all empty frames,
whose cost must stay within 1.2× of zxing-cpp's own (`scripts/bench scan` measures both).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np

from terminal.core.tokens import DEFAULT_BARCODE, BarcodeFormat, is_customer_barcode
from terminal.scan import bars
from terminal.scan.blur import defocus_radius
from terminal.scan.decoders import FORMATS, Decoded, ZxingBackend, load_backends
from terminal.scan.imaging import (
    deconvolved,
    disc_kernel,
    dominant_edge_angle,
    rotate,
    sharpness,
    whitened,
)
from terminal.scan.numeric_bars import read_numeric

log = logging.getLogger(__name__)

# The gate looks at a quarter-size frame: a code's transitions survive that (blurred ones
# included), and it costs ~0.3 ms instead of ~1.2 ms at half size (the empty-frame budget).
GATE_SCALE = 4
GATE_WINDOW = 31  # px at quarter size (124 px): wider than text and cables, narrower than a code
GATE_LOCAL = 9  # the local mean a pixel is dark against, at quarter size
GATE_MIN_SIDE = 32  # px: smaller frames have nothing to gate (the first pass still runs)
GATE_THRESHOLD = 0.30  # tuning split: ~10% of empty frames reach it, ~96% of repairable codes do
MIN_DEFOCUS = 1.25  # px: a smaller estimated disc is not worth deconvolving
DEFOCUS_STEPS = (0.0, 0.25)  # px added to the estimated radius: the fit is biased low
DEFOCUS_NOISE = (0.01, 0.003)  # Wiener noise-to-signal ratios, the safer first
FALLBACK_RADII = (1.5, 2.2, 3.0)  # px: discs tried when the spectrum shows no lens blur
FALLBACK_NOISE = 0.03
BLURRY = 0.35  # sharpness below which a region is worth deconvolving
LOCATED = 1.0  # the gate score given to a symbol zxing-cpp located: every repair may run
# The gate score each repair needs, from the tuning split: the score of the weakest code each
# step rescued there (the cheap global threshold lower: it reads two real photographs at
# 0.40). Far barcodes score lowest (0.30–0.33 at quarter size); empty frames mostly score below
# 0.35, so the expensive 2-D steps rarely run on them (empty frame: ~1.1× zxing-cpp's cost).
REPAIR_GATES = {
    "rotate": 0.42,
    "bars": 0.30,
    "binarize": 0.38,
    "smooth": 0.38,
    "upscale": 0.38,
    "whiten": 0.38,
    "defocus": 0.35,
    "model": 0.30,
}


@dataclass
class PipelineStats:
    """What the pipeline did with one frame: which step read it and what it cost."""

    step: str = "none"  # first, or a repair in REPAIR_GATES, or none
    gated: bool = False  # the gate opened: the repairs ran unless held back
    held_back: bool = False  # the caller's back-off kept the repairs from running
    gate_score: float = 0.0
    centre: tuple[int, int] | None = None  # where the repairs look (frame pixels), if gated
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
    """How code-like the most code-like window is (0..1), and its centre in frame pixels.

    Code-like: many dark/light transitions (against the local mean, so shading does not count)
    in a window wider than text and cables, weighted by the window's contrast so that sensor
    noise in flat areas does not count either.
    """
    height, width = gray.shape
    if min(height, width) < GATE_MIN_SIDE:
        return 0.0, (width // 2, height // 2)
    small = cv2.resize(
        gray, (width // GATE_SCALE, height // GATE_SCALE), interpolation=cv2.INTER_AREA
    )
    local = cv2.blur(small, (GATE_LOCAL, GATE_LOCAL)).astype(np.int16) - 4
    dark = (small < local).view(np.uint8)
    size = (GATE_WINDOW, GATE_WINDOW)
    # Across and down apart: a barcode has transitions one way only, a QR code both ways.
    across = cv2.boxFilter(cv2.absdiff(dark[:-1, 1:], dark[:-1, :-1]), cv2.CV_32F, size)
    down = cv2.boxFilter(cv2.absdiff(dark[1:, :-1], dark[:-1, :-1]), cv2.CV_32F, size)
    values = small[:-1, :-1].astype(np.float32)
    mean = cv2.boxFilter(values, -1, size)
    spread = cv2.sqrt(cv2.max(cv2.boxFilter(values * values, -1, size) - mean * mean, 0))
    # Contrast counts up to about 12 grey levels: below that, transitions are sensor noise.
    score = cv2.max(across, down) * cv2.min(spread * (1 / 12.0), 1.0)
    _, best, _, (x, y) = cv2.minMaxLoc(score)
    half = GATE_SCALE // 2
    return float(best), (x * GATE_SCALE + half, y * GATE_SCALE + half)


def window(gray: np.ndarray, centre: tuple[int, int], half: int = 200) -> np.ndarray:
    """A square around `centre`, shifted to stay inside the frame."""
    height, width = gray.shape
    x, y = centre
    top = min(max(0, y - half), max(0, height - 2 * half))
    left = min(max(0, x - half), max(0, width - 2 * half))
    return gray[top : top + 2 * half, left : left + 2 * half]


def region(gray: np.ndarray, centre: tuple[int, int]) -> np.ndarray:
    """The window around `centre` with a white margin added, so that a code reaching the
    frame's edge still has a quiet zone."""
    return cv2.copyMakeBorder(
        window(gray, centre, 180), 32, 32, 32, 32, cv2.BORDER_CONSTANT, value=255
    )


class Pipeline:
    """Decodes one frame at a time; safe to call from one thread at a time."""

    def __init__(
        self,
        backends: Sequence[str] = ("zxing", "zbar", "opencv"),
        formats: Sequence[str] = FORMATS,
        gate_threshold: float = GATE_THRESHOLD,
        payment_barcode: BarcodeFormat = DEFAULT_BARCODE,
    ):
        self.formats = tuple(formats)
        # The model step guesses the most likely symbols; what it answers must also be a
        # payment barcode of the issuer's format (prefix, length, check digit).
        self.payment_barcode = payment_barcode
        self.backends = load_backends(backends, formats)
        if not self.backends:
            raise RuntimeError("no decoder backend is available: pip install zxing-cpp")
        self.gate_threshold = gate_threshold
        self._zxing = self.backends.get("zxing")
        # A median filter and one threshold for the whole region instead of zxing's local one:
        # reads codes whose modules carry a picture (artistic QR codes in the real photo set).
        if self._zxing is not None:
            self._global = ZxingBackend(formats, binarizer="GlobalHistogram")
            # The first pass skips the inverted-image pass (light codes on dark, rare on a
            # wallet's screen): ~8% of its cost; the gated repairs still try inverted codes.
            self._cheap = ZxingBackend(formats, try_invert=False)
        # Fused scanlines are clean 1-D profiles: only the Code128 reader needs to look at them.
        wants_bars = self._zxing is not None and "Code128" in formats
        self._bars = ZxingBackend(("Code128",)) if wants_bars else None

    def _first(self, gray: np.ndarray) -> tuple[list[Decoded], list[tuple[int, int]]]:
        """Codes read by the cheap pass, and where it located symbols it could not read."""
        if self._zxing is not None:
            return self._cheap.decode_or_locate(gray, try_harder=False, try_rotate=False)
        # Without zxing-cpp, the other backends in order are the first pass.
        for backend in self.backends.values():
            found = backend.decode(gray)
            if found:
                return found, []
        return [], []

    def _repairs(self, gray: np.ndarray, centre: tuple[int, int], score: float):
        """(step name, decode function) in the order they are tried, each only when the gate's
        score reaches the step's own minimum (REPAIR_GATES)."""
        zxing = self._zxing
        if zxing is None:
            return
        crop = region(gray, centre)
        band = functools.cache(lambda: _barcode_band(gray, centre))  # shared by two steps
        steps = [("rotate", lambda: zxing.decode(rotate(gray, dominant_edge_angle(crop))))]
        if self._bars is not None:
            steps.append(("bars", lambda: self._fused_bars(band())))
        steps.append(("binarize", lambda: self._global.decode(cv2.medianBlur(crop, 3))))
        # A soft low-pass: the moiré a phone's pixel grid leaves at the sensor goes, modules of
        # 2 px and more stay.
        steps.append(("smooth", lambda: self._plain(cv2.GaussianBlur(gray, (0, 0), 1.0))))
        enlarged = lambda: cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)  # noqa: E731
        steps.append(("upscale", lambda: zxing.decode(enlarged())))
        steps.append(("whiten", lambda: self._mirrored(window(gray, centre), [_one(whitened)])))
        steps.append(("defocus", lambda: self._defocused(gray, centre, crop)))
        if self._bars is not None:  # the slowest: last, and only Code128 reaches it
            steps.append(("model", lambda: self._numeric_model(band())))
        for name, attempt in steps:
            if score >= REPAIR_GATES[name]:
                yield name, attempt

    def _plain(self, image: np.ndarray) -> list[Decoded]:
        """zxing-cpp at one scale, upright only: for images a repair has already prepared."""
        return self._zxing.decode(image, try_harder=False, try_rotate=False)

    def _fused_bars(self, band: Band | None) -> list[Decoded]:
        if band is None:
            return []
        for factor in (2, 3):
            enlarged = bars.enlarged(band.turned, band.box, factor)
            codes = self._bars.decode(enlarged, try_harder=False, try_rotate=False)
            if codes:
                return codes
        for profile in bars.profiles(band.fused):
            codes = self._bars.decode(bars.as_image(profile), try_harder=False, try_rotate=False)
            if codes:
                return codes
        return []

    def _numeric_model(self, band: Band | None) -> list[Decoded]:
        if band is None:
            return []
        expected = self.payment_barcode
        digits = read_numeric(band.fused, (expected.digits,))
        if digits is None or not is_customer_barcode(digits, expected):
            return []
        return [Decoded("Code128", digits)]

    def _mirrored(self, image: np.ndarray, restorers) -> list[Decoded]:
        """The first code read from `image` restored by each of `restorers` (image → images),
        mirrored at its borders first so that its edges do not ring into the code."""
        pad = 24
        mirrored = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT)
        for restore in restorers:
            for restored in restore(mirrored):
                found = self._plain(restored[pad:-pad, pad:-pad])
                if found:
                    return found
        return []

    def _defocused(self, gray: np.ndarray, centre: tuple[int, int], crop) -> list[Decoded]:
        if sharpness(crop) >= BLURRY:
            return []
        area = window(gray, centre)
        radius = defocus_radius(area)
        if radius >= MIN_DEFOCUS:  # a lens blur the spectrum shows: the disc it fits
            # The whole frame: a code is often larger than the gate's window.
            discs = [disc_kernel(radius + step) for step in DEFOCUS_STEPS]
            restorers = [lambda m, n=n: deconvolved(m, discs, n) for n in DEFOCUS_NOISE]
            if found := self._mirrored(gray, restorers):
                return found
        # Blurs no disc explains (a hand's path): a few discs, heavily regularised, which
        # soften rather than invert whatever shape the blur has.
        fallback = [disc_kernel(r) for r in FALLBACK_RADII]
        return self._mirrored(area, [lambda m: deconvolved(m, fallback, FALLBACK_NOISE)])

    def decode(
        self, frame: np.ndarray, may_repair: Callable[[tuple[int, int]], bool] | None = None
    ) -> ScanResult:
        """The codes in `frame`. `may_repair(centre)`, when given, is asked before the repairs
        run at `centre` (terminal/scan/backoff.py: a spot that keeps failing is left alone)."""
        started = time.perf_counter()
        gray = _gray(frame)
        stats = PipelineStats()
        codes, located = self._first(gray)
        if codes:
            stats.step = "first"
        else:
            if located:  # zxing-cpp saw a symbol: repair there, whatever the texture says
                stats.gate_score, centre = LOCATED, located[0]
            else:
                stats.gate_score, centre = gate(gray)
            if stats.gate_score >= self.gate_threshold:
                stats.gated, stats.centre = True, centre
                stats.held_back = may_repair is not None and not may_repair(centre)
                repairs = () if stats.held_back else self._repairs(gray, centre, stats.gate_score)
                for step, attempt in repairs:
                    codes = attempt()
                    if codes:
                        stats.step = step
                        break
        stats.ms = (time.perf_counter() - started) * 1000
        return ScanResult(codes=_unique(codes), stats=stats)


class Band(NamedTuple):
    """A barcode found near the gate's centre: the frame turned upright, where the bars are in
    it, and the median of their rows (terminal/scan/bars.py)."""

    turned: np.ndarray
    box: tuple[int, int, int, int]
    fused: np.ndarray


def _barcode_band(gray: np.ndarray, centre: tuple[int, int]) -> Band | None:
    """The barcode near `centre`; None when nothing there has the rows of bars one has."""
    found = bars.located(gray, centre)
    fused = None if found is None else bars.fused_profile(*found)
    return None if fused is None else Band(*found, fused)


def _one(restore):
    """A restorer giving one image as one giving a list of them."""
    return lambda image: [restore(image)]


def _unique(codes: list[Decoded]) -> list[Decoded]:
    seen, result = set(), []
    for code in codes:
        if code not in seen:
            seen.add(code)
            result.append(code)
    return result
