"""Renders payment codes to crisp pixels: QR and Code128, integer module size, quiet zone kept.

QR modules come from zxing-cpp when it is installed (about 20× faster than the pure-Python
encoders, measured by `scripts/bench encode`) and from segno otherwise. Code128 needs zxing-cpp.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

QR_QUIET_MODULES = 4  # ISO/IEC 18004 quiet zone
CODE128_QUIET_MODULES = 10  # ISO/IEC 15417 quiet zone
ECC_LEVELS = ("L", "M", "Q", "H")


class RenderError(ValueError):
    """A code that cannot be drawn: too long for a QR, or too big for the requested size."""


def _zxing():
    try:
        import zxingcpp
    except ImportError:
        return None
    return zxingcpp


def qr_backends() -> list[str]:
    """The QR encoders available here, fastest first."""
    return (["zxing"] if _zxing() else []) + ["segno"]


def qr_modules(text: str, ecc: str = "M", backend: str | None = None) -> np.ndarray:
    """The QR symbol as a square bool array, True for dark modules, without quiet zone."""
    if ecc not in ECC_LEVELS:
        raise RenderError(f"error correction must be one of {ECC_LEVELS}, got {ecc!r}")
    backend = backend or qr_backends()[0]
    if backend == "zxing":
        zxingcpp = _zxing()
        if zxingcpp is None:
            raise RenderError("zxing-cpp is not installed")
        try:
            code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=ecc)
        except Exception as error:  # zxing-cpp raises plain exceptions for oversize content
            raise RenderError(f"cannot encode as QR: {error}") from None
        return np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128
    if backend == "segno":
        import segno

        try:
            code = segno.make_qr(text, error=ecc.lower(), boost_error=False)
        except segno.DataOverflowError as error:
            raise RenderError(f"cannot encode as QR: {error}") from None
        return np.array(code.matrix, dtype=bool)
    raise RenderError(f"unknown QR backend {backend!r}; known: zxing, segno")


def modules_to_image(modules: np.ndarray, size: int, quiet: int) -> Image.Image:
    """Scales a module array by the largest integer factor that fits `size` with its quiet zone.

    The result is exactly size × size (white margin around the centred symbol), 8-bit grey,
    with no resampling: every module is a sharp block of equal pixels.
    """
    rows, cols = modules.shape
    scale = size // (max(rows, cols) + 2 * quiet)
    if scale < 1:
        raise RenderError(
            f"{cols}×{rows} modules plus a {quiet}-module quiet zone do not fit {size} px"
        )
    symbol = np.where(modules, 0, 255).astype(np.uint8)
    symbol = np.repeat(np.repeat(symbol, scale, axis=0), scale, axis=1)
    canvas = np.full((size, size), 255, dtype=np.uint8)
    top, left = (size - symbol.shape[0]) // 2, (size - symbol.shape[1]) // 2
    canvas[top : top + symbol.shape[0], left : left + symbol.shape[1]] = symbol
    return Image.fromarray(canvas)


def render_qr(text: str, size: int, ecc: str = "M", backend: str | None = None) -> Image.Image:
    """A size × size image of `text` as a QR code for the display."""
    return modules_to_image(qr_modules(text, ecc, backend), size, QR_QUIET_MODULES)


def code128_modules(text: str) -> np.ndarray:
    """Code128 bars as a 1-D bool array, True for dark modules, without quiet zone."""
    zxingcpp = _zxing()
    if zxingcpp is None:
        raise RenderError("Code128 rendering needs zxing-cpp (pip install zxing-cpp)")
    if not text or not text.isascii():
        raise RenderError(f"Code128 holds ASCII text only: {text!r}")
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    row = np.asarray(code.to_image(scale=1, add_quiet_zones=False))
    return row[row.shape[0] // 2] < 128


def render_code128(text: str, width: int, height: int) -> Image.Image:
    """A width × height image of a Code128 barcode, integer bar width, centred."""
    bars = code128_modules(text)
    scale = width // (len(bars) + 2 * CODE128_QUIET_MODULES)
    if scale < 1:
        raise RenderError(f"{len(bars)} Code128 modules do not fit {width} px")
    row = np.repeat(np.where(bars, 0, 255).astype(np.uint8), scale)
    canvas = np.full((height, width), 255, dtype=np.uint8)
    left = (width - row.size) // 2
    canvas[:, left : left + row.size] = row
    return Image.fromarray(canvas)
