"""Labelled test frames: the simulated set (every degradation category) and the real photos."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from terminal.core.base45 import b45encode
from terminal.core.tokens import MAX_TOKEN_ID, customer_barcode
from terminal.sim.scene import degraded_shot, render


@dataclass(frozen=True)
class Sample:
    name: str
    gray: np.ndarray
    expected: str | None  # None: the frame holds no code


def simulated(category: str, count: int, seed: int = 0) -> Iterator[Sample]:
    """`count` frames of `category` ("empty" for none): 70% customer QR tokens, 30% Code128."""
    salt = sum(map(ord, category)) * 1_000_003
    for index in range(count):
        rng = np.random.default_rng(seed * 7919 + index + salt)
        if category == "empty":
            shot = degraded_shot("empty", None, "QRCode" if index % 2 else "Code128", salt + index)
            yield Sample(f"{category}/{index}", render(shot, salt + index), None)
            continue
        barcode = index % 10 < 3
        if barcode:
            text = customer_barcode(int(rng.integers(0, MAX_TOKEN_ID)))
        else:  # the shape of a real customer token: "EU1:" + Base45 of 96 bytes
            text = "EU1:" + b45encode(rng.bytes(96))
        shot = degraded_shot(category, text, "Code128" if barcode else "QRCode", salt + index)
        yield Sample(f"{category}/{index}", render(shot, salt + index), text)


def real_photos(folder: Path) -> Iterator[Sample]:
    """The shared photographs; each image's expected text is in the .txt beside it."""
    for image in sorted(folder.glob("*/*.png")):
        label = image.with_suffix(".txt")
        if not label.exists():
            continue
        expected = label.read_bytes().decode("utf-8").rstrip("\r\n")
        gray = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
        yield Sample(f"{image.parent.name}/{image.name}", gray, expected)
