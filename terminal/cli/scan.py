"""`qr-terminal decode IMAGE...`: the full decode pipeline on image files, one JSON line each.

Every file gets its own line, read or not: a file that cannot be used gets {"file", "error"} on
stdout and one line on stderr, and the batch goes on; the exit code is then 2. An image's size
is checked from its header before any pixel is decoded: a 1 MB PNG can declare 32000×32000
pixels (a gigabyte of memory), so anything over --max-pixels is refused unread.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

# A 12-megapixel phone photo fits with room to spare; a decompression bomb does not.
MAX_IMAGE_PIXELS = 40_000_000
# No image file holds more than 4 bytes a pixel plus its header and metadata: a bigger file is
# refused before it is read (a 3 GB file declaring 200×200 would be read whole, then fail).
BYTES_PER_PIXEL, SLACK_BYTES = 4, 1 << 20


class ImageRefused(ValueError):
    """This file is not an image the decoder will take; the message says why and what to do."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def load_gray(path: Path, max_pixels: int = MAX_IMAGE_PIXELS):
    """The image at `path` as a greyscale array, after its header said it is small enough.

    Raises ImageRefused (missing, not a file, not an image, too large, damaged) or OSError.
    """
    import cv2
    import numpy as np
    from PIL import Image

    if not path.exists():
        if path.is_symlink():  # exists() follows the link: a dangling one, or a loop
            raise ImageRefused("a symbolic link to nothing (dangling, or a loop); give the file")
        raise ImageRefused("no such file")
    if not path.is_file():
        raise ImageRefused("not a regular file")
    # PIL's own bomb check (a warning, or an error past twice its global limit) is replaced
    # by ours for this one lazy open, so that the message names our limit and the file's size.
    limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    try:
        with Image.open(path) as header:  # lazy: reads the header, not the pixels
            width, height = header.size
    except (Image.UnidentifiedImageError, SyntaxError, ValueError):
        raise ImageRefused("not an image (PNG, JPEG, BMP, TIFF, WebP or PGM)") from None
    finally:
        Image.MAX_IMAGE_PIXELS = limit
    if width * height > max_pixels:
        raise ImageRefused(
            f"{width}×{height} px is over the limit of {max_pixels:,} pixels; scale it down "
            "or raise --max-pixels"
        )
    size, most = path.stat().st_size, width * height * BYTES_PER_PIXEL + SLACK_BYTES
    if size > most:
        raise ImageRefused(
            f"{size:,} bytes is more than a {width}×{height} px image can hold ({most:,}); "
            "the file is damaged or not what its header says"
        )
    data = np.fromfile(path, dtype=np.uint8)  # one read, the same bytes the header came from
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # our one line, not its
    try:
        gray = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    except cv2.error:
        gray = None
    finally:
        cv2.utils.logging.setLogLevel(level)
    if gray is None:
        raise ImageRefused("damaged or unsupported image data")
    return gray


def _decode(args: argparse.Namespace) -> int:
    from terminal.scan.pipeline import Pipeline

    pipeline = Pipeline()
    status = 0
    for path in args.images:
        started = time.perf_counter()
        try:
            gray = load_gray(path, args.max_pixels)
        except (ImageRefused, OSError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            print(json.dumps({"file": str(path), "error": str(reason)}, ensure_ascii=False))
            print(f"error: {path}: {reason}", file=sys.stderr)
            status = 2
            continue
        result = pipeline.decode(gray)
        ms = round((time.perf_counter() - started) * 1000, 2)
        codes = [code.as_dict() for code in result.codes]
        print(json.dumps({"file": str(path), "codes": codes, "ms": ms}, ensure_ascii=False))
    return status


def register(commands: argparse._SubParsersAction) -> None:
    decode = commands.add_parser(
        "decode",
        help="decode QR and Code128 codes in images with the full pipeline (JSON per image)",
    )
    decode.add_argument(
        "images", nargs="+", type=Path, metavar="IMAGE", help="image files (PNG, JPEG, ...)"
    )
    decode.add_argument(
        "--max-pixels",
        type=_positive,
        default=MAX_IMAGE_PIXELS,
        help=f"refuse images with more pixels than this, unread (default {MAX_IMAGE_PIXELS:,})",
    )
    decode.set_defaults(handler=_decode)
