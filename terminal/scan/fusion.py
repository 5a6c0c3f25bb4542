"""Multi-frame fusion: a code held in view but unread frame by frame, read from several frames
aligned on each other and combined; and the agreement a Code128 read needs before it counts.

A customer holds a code up for 5–15 frames. Where each frame alone fails (sensor noise, a
finger that slides, refresh bands that roll, a blur path that differs frame to frame), the
same patch aligned over a few frames and averaged, or its per-pixel median taken, can read.
Only frames whose gate scored high (or where zxing-cpp located a symbol) are kept, so a frame
with nothing code-like costs one append, and a fusion is tried at most every other such frame.

Safety: patches are combined only when phase correlation finds them to be the same picture
shifted, and QR codes carry Reed–Solomon check words. Code128's mod-103 checksum is weak: on a
held, motion-blurred barcode zxing-cpp alone read another valid text in one frame (the tuning
holds of `scripts/bench scan`), so a Code128 text, read from one frame or from a fusion, is
reported only once it was read twice within DEPTH frames.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from terminal.scan.decoders import Decoded
from terminal.scan.pipeline import Pipeline, ScanResult, window

DEPTH = 5  # frames looked back: half a second at 10 fps, while a hand barely moves
MIN_FRAMES = 3  # fewer frames average too little noise away to be worth a decode
MIN_SCORE = 0.35  # the gate score a frame needs to be kept (held empty screens score ≤ 0.33)
HALF = 160  # px: the fused patch is 320 px square, a token QR code at the gate's sizes
MIN_RESPONSE = 0.08  # phase correlation peak below which two patches are not the same picture


class Fusion:
    """Turns each frame's pipeline result into the codes to report for it: the frame's own
    reads or, when it read nothing, a fusion of the last DEPTH frames; Code128 reads confirmed.
    One instance per camera; `update` with each frame in order."""

    def __init__(self, pipeline: Pipeline | None = None):
        # The fused patch gets the pipeline's own repairs; a separate instance by default, so
        # a caller's pipeline sees exactly the camera's frames.
        self._pipeline = pipeline if pipeline is not None else Pipeline(("zxing",))
        self._frames: deque[np.ndarray | None] = deque(maxlen=DEPTH)
        self._since_try = 0  # frames kept since the last fusion was tried
        self._count = 0
        self._seen: dict[Decoded, int] = {}  # Code128 reads: the frame number each was last read
        self._window = cv2.createHanningWindow((2 * HALF, 2 * HALF), cv2.CV_32F)

    def reset(self) -> None:
        self._frames.clear()
        self._seen.clear()
        self._since_try = 0

    def kept(self) -> int:
        """How many of the last DEPTH frames are kept for fusion."""
        return sum(frame is not None for frame in self._frames)

    def update(self, gray: np.ndarray, result: ScanResult) -> list[Decoded]:
        self._count += 1
        codes = result.codes
        if codes:
            self._frames.clear()  # read: a later fusion must not mix this code with the next
        else:
            codes = self._fused(gray, result)
        return self._confirmed(codes)

    def _confirmed(self, codes: list[Decoded]) -> list[Decoded]:
        """QR reads as they are; a Code128 read once it was read before within DEPTH frames."""
        reported = []
        for code in codes:
            if code.format != "Code128" or self._count - self._seen.get(code, -DEPTH) < DEPTH:
                reported.append(code)
            if code.format == "Code128":
                self._seen[code] = self._count
        self._seen = {code: n for code, n in self._seen.items() if self._count - n < DEPTH}
        return reported

    def _fused(self, gray: np.ndarray, result: ScanResult) -> list[Decoded]:
        stats = result.stats
        code_like = stats.gated and stats.gate_score >= MIN_SCORE and stats.centre is not None
        if not code_like or min(gray.shape) < 2 * HALF:
            self._frames.append(None)
            return []
        self._frames.append(gray)
        self._since_try += 1
        kept = [frame for frame in self._frames if frame is not None]
        # Every other kept frame: the stack has changed enough to be worth another decode.
        if len(kept) < MIN_FRAMES or self._since_try < 2:
            return []
        self._since_try = 0
        stack = self._aligned(kept, stats.centre)
        return self._read(stack) if len(stack) >= MIN_FRAMES else []

    def _aligned(self, frames: list[np.ndarray], centre: tuple[int, int]) -> list[np.ndarray]:
        """The patch around `centre` in each frame, shifted onto the newest frame's patch; the
        patches that do not match it are left out."""
        newest = window(frames[-1], centre, HALF).astype(np.float32)
        stack = [newest]
        for frame in frames[:-1]:
            patch = window(frame, centre, HALF).astype(np.float32)
            (dx, dy), response = cv2.phaseCorrelate(newest, patch, self._window)
            if response < MIN_RESPONSE or max(abs(dx), abs(dy)) > HALF / 2:
                continue
            moved = np.float32([[1, 0, -dx], [0, 1, -dy]])
            stack.append(
                cv2.warpAffine(patch, moved, patch.shape[::-1], borderMode=cv2.BORDER_REPLICATE)
            )
        return stack

    def _read(self, stack: list[np.ndarray]) -> list[Decoded]:
        """The mean (noise) first, then the per-pixel median (a finger or band that moved)."""
        for combine in (np.mean, np.median):
            fused = np.clip(combine(stack, axis=0), 0, 255).astype(np.uint8)
            codes = self._pipeline.decode(fused).codes
            if codes:
                self._frames.clear()
                return codes
        return []
