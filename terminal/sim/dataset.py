"""Labelled test frames: the simulated counter splits (terminal/sim/counter.py) and the real
photographs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from terminal.core.base45 import b45encode
from terminal.core.tokens import MAX_TOKEN_ID, customer_barcode
from terminal.sim.counter import CATEGORIES as COUNTER_CATEGORIES
from terminal.sim.counter import draw_take, empty_take, hold_takes, render_take

# The independent counter set's two splits: repairs are tuned on one seed and reported on the
# other, which is not looked at while tuning. Seeds 2, 3 and 4 were reported on before and so
# have been seen; the report is now on seed 5, looked at once, after the last change.
SPLITS = {"tuning": 1, "unseen": 5}
# Holds (consecutive frames): tuned on seed 1, reported on seed 5 (seeds 3 and 4 were reported
# on before, and their holds then looked at).
HOLD_SPLITS = {"tuning": 1, "fresh": 5}
HOLD_FRAMES = 10  # 1 s at the scan worker's 10 fps


@dataclass(frozen=True)
class Sample:
    name: str
    gray: np.ndarray
    expected: str | None  # None: the frame holds no code
    also_true: frozenset[str] = frozenset()  # other texts that are right answers too


# Photographs whose label is not the whole truth, each with the text that is also right and why.
PHOTO_NOTES = {
    "qrcode-2/13.png": (
        "The 2005 USGS aerial photography of the Washington Monument is censored.",
        "zxing-cpp, ZBar and OpenCV all read 'photography'; the label says 'photograph'",
    ),
    "qrcode-2/16.png": (
        "[内側QRコード]\n\n*ダブルQR*\nhttp://d-qr.net/ex/",
        "a QR code printed inside another QR code: both are real",
    ),
}


def same_text(text: str) -> str:
    """A decoded text as the labels write it: line ends as "\n", no trailing line end (the
    photo labels were saved with "\n" where the codes hold "\r\n")."""
    return text.replace("\r\n", "\n").rstrip("\r\n")


def token_text(rng: np.random.Generator, barcode: bool) -> str:
    """A text with the shape of one of our customer tokens: the numeric Code128 form (the
    issuer's default length) or the QR form, "EU1:" + Base45 of 96 bytes (148 characters)."""
    if barcode:
        return customer_barcode(int(rng.integers(0, MAX_TOKEN_ID)))
    return "EU1:" + b45encode(rng.bytes(96))


def counter_frames(category: str, count: int, seed: int) -> Iterator[Sample]:
    """`count` frames of an independent counter category (terminal/sim/counter.py), a third of
    them the numeric Code128 token, the rest the QR token; "empty" for frames with no code."""
    slot = (*COUNTER_CATEGORIES, "empty").index(category)
    for index in range(count):
        frame_seed = (seed * 1_000 + slot) * 100_000 + index * 2
        if category == "empty":
            take = empty_take(frame_seed)
            yield Sample(f"{category}/{index}", render_take(take, frame_seed + 1), None)
            continue
        rng = np.random.default_rng(frame_seed)
        barcode = index % 3 == 2
        text = token_text(rng, barcode)
        take = draw_take(category, text, "Code128" if barcode else "QRCode", frame_seed)
        yield Sample(f"{category}/{index}", render_take(take, frame_seed + 1), text)


@dataclass(frozen=True)
class Hold:
    """Consecutive frames of one code held up (or of nobody paying, `expected` None)."""

    name: str
    frames: list[np.ndarray]
    expected: str | None


def counter_holds(category: str, count: int, seed: int, frames: int = HOLD_FRAMES):
    """`count` holds of `frames` frames each, drawn as counter_frames draws single frames (a
    third Code128, the rest QR; "empty" for holds with no code), the hand's motion from
    terminal/sim/counter.py's hold_takes. Each frame has its own noise and blur path."""
    slot = (*COUNTER_CATEGORIES, "empty").index(category)
    for index in range(count):
        hold_seed = ((seed * 1_000 + slot) * 100_000 + index) * 64 + 7
        if category == "empty":
            first, text = empty_take(hold_seed), None
        else:
            rng = np.random.default_rng(hold_seed)
            barcode = index % 3 == 2
            text = token_text(rng, barcode)
            first = draw_take(category, text, "Code128" if barcode else "QRCode", hold_seed)
        takes = hold_takes(first, frames, hold_seed + 1)
        grays = [
            render_take(take, hold_seed + 2 + n, scene_seed=hold_seed + 1)
            for n, take in enumerate(takes)
        ]
        yield Hold(f"{category}/{index}", grays, text)


def real_photos(folder: Path) -> Iterator[Sample]:
    """The shared photographs; each image's expected text is in the .txt beside it."""
    for image in sorted(folder.glob("*/*.png")):
        label = image.with_suffix(".txt")
        if not label.exists():
            continue
        expected = same_text(label.read_bytes().decode("utf-8"))
        gray = cv2.imread(str(image), cv2.IMREAD_GRAYSCALE)
        name = f"{image.parent.name}/{image.name}"
        also = frozenset([PHOTO_NOTES[name][0]]) if name in PHOTO_NOTES else frozenset()
        yield Sample(name, gray, expected, also)
