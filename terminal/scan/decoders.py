"""Decoder backends behind one interface, restricted to what a payment terminal reads: QR, Code128.

With every symbology switched on, ZBar invents short Interleaved-2-of-5 codes in blurred frames;
restricting formats also makes every backend faster.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

FORMATS = ("QRCode", "Code128")


@dataclass(frozen=True)
class Decoded:
    format: str  # "QRCode" or "Code128"
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"format": self.format, "text": self.text}


class BackendMissing(RuntimeError):
    """A decoder library is not installed here; say so once and go on without it."""


class ZxingBackend:
    """zxing-cpp: the fastest and most capable single library here."""

    name = "zxing"

    def __init__(
        self,
        formats: Sequence[str] = FORMATS,
        binarizer: str = "LocalAverage",
        try_invert: bool = True,
    ):
        try:
            import zxingcpp
        except ImportError as error:
            raise BackendMissing(f"zxing-cpp is not installed ({error})") from None
        self._zxing = zxingcpp
        self._formats = tuple(getattr(zxingcpp.BarcodeFormat, f) for f in formats)
        self._binarizer = getattr(zxingcpp.Binarizer, binarizer)
        self._names = {getattr(zxingcpp.BarcodeFormat, f): f for f in formats}
        self._try_invert = try_invert

    def decode(
        self, gray: np.ndarray, *, try_harder: bool = True, try_rotate: bool = True
    ) -> list[Decoded]:
        return self.decode_or_locate(gray, try_harder=try_harder, try_rotate=try_rotate)[0]

    def decode_or_locate(
        self, gray: np.ndarray, *, try_harder: bool = True, try_rotate: bool = True
    ) -> tuple[list[Decoded], list[tuple[int, int]]]:
        """The codes read, and the centres of symbols zxing-cpp located but could not decode
        (a finder pattern or start code seen, the rest unreadable): a gate that costs nothing."""
        found = self._zxing.read_barcodes(
            gray,
            formats=self._formats,
            binarizer=self._binarizer,
            try_rotate=try_rotate,
            try_downscale=try_harder,
            try_invert=self._try_invert,
            # Plain keeps control characters as they are; the default HRI mode would turn
            # "\x01" into "<SOH>" and hand the caller a text that was never in the code.
            text_mode=self._zxing.TextMode.Plain,
            return_errors=True,
        )
        codes = [Decoded(self._names[r.format], r.text) for r in found if r.valid]
        located = [_centre(r.position) for r in found if not r.valid]
        return codes, located


def _centre(position) -> tuple[int, int]:
    corners = (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    return (
        int(sum(point.x for point in corners) / 4),
        int(sum(point.y for point in corners) / 4),
    )


class ZbarBackend:
    """ZBar through pyzbar (needs libzbar0 from apt): better than zxing on glare and moiré."""

    name = "zbar"

    def __init__(self, formats: Sequence[str] = FORMATS):
        try:
            from pyzbar import pyzbar
        except (ImportError, FileNotFoundError, OSError) as error:
            raise BackendMissing(f"pyzbar/libzbar0 is not available ({error})") from None
        self._pyzbar = pyzbar
        symbols = {"QRCode": pyzbar.ZBarSymbol.QRCODE, "Code128": pyzbar.ZBarSymbol.CODE128}
        self._symbols = [symbols[f] for f in formats]
        self._names = {"QRCODE": "QRCode", "CODE128": "Code128"}

    def decode(self, gray: np.ndarray) -> list[Decoded]:
        results = []
        for found in self._pyzbar.decode(gray, symbols=self._symbols):
            try:
                text = found.data.decode("utf-8")
            except UnicodeDecodeError:
                continue  # our codes are UTF-8; anything else is not a payment code
            results.append(Decoded(self._names[found.type], text))
        return results


class OpencvBackend:
    """OpenCV's QRCodeDetector (QR only): the weakest here, kept as a third opinion."""

    name = "opencv"

    def __init__(self, formats: Sequence[str] = FORMATS):
        try:
            import cv2
        except ImportError as error:
            raise BackendMissing(f"OpenCV is not installed ({error})") from None
        self._detector = cv2.QRCodeDetector() if "QRCode" in formats else None

    def decode(self, gray: np.ndarray) -> list[Decoded]:
        if self._detector is None:
            return []
        try:
            text, _points, _ = self._detector.detectAndDecode(gray)
        except Exception:  # OpenCV raises cv2.error on degenerate detections
            return []
        return [Decoded("QRCode", text)] if text else []


BACKENDS = {"zxing": ZxingBackend, "zbar": ZbarBackend, "opencv": OpencvBackend}


def load_backends(names: Sequence[str], formats: Sequence[str] = FORMATS) -> dict[str, object]:
    """The named backends that can run here; each missing one is logged once, not raised."""
    loaded = {}
    for name in names:
        if name not in BACKENDS:
            raise ValueError(f"unknown decoder backend {name!r}; known: {', '.join(BACKENDS)}")
        try:
            loaded[name] = BACKENDS[name](formats)
        except BackendMissing as error:
            log.warning("decoder backend %s unavailable: %s", name, error)
    return loaded
