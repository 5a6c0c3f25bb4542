"""`qr-terminal decode IMAGE...`: the full decode pipeline on image files, one JSON line each."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _decode(args: argparse.Namespace) -> int:
    import cv2

    from terminal.scan.pipeline import Pipeline

    pipeline = Pipeline()
    status = 0
    for path in args.images:
        started = time.perf_counter()
        gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) if path.is_file() else None
        if gray is None:
            print(json.dumps({"file": str(path), "error": "cannot read as an image"}))
            print(f"error: {path}: missing or not an image OpenCV can read", file=sys.stderr)
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
    decode.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    decode.set_defaults(handler=_decode)
