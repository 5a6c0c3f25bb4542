"""Multi-frame fusion: a code held in view but unread frame by frame, read from several frames
aligned on each other and combined; and the agreement a Code128 read needs before it counts.

A customer holds a code up for 5–15 frames. Where each frame alone fails (sensor noise, a
finger that slides, refresh bands that roll, a blur path that differs frame to frame), the
same patch aligned over a few frames and averaged can read:
the patch is found by the gate on the frames' plain mean, aligned by phase correlation refined
into an affine map (ECC), then read by the pipeline's own repairs. Only frames whose gate scored
high (or where zxing-cpp located a symbol) are kept, so a frame with nothing code-like costs one
append; fusions are tried after 5, 10, 20... kept frames, so a code-like screen with no code on
it (a pixel grid's moiré) held up for seconds costs little more than its frames alone.

Safety: patches are combined only when phase correlation and ECC find them to be the same
picture moved, and QR codes carry Reed–Solomon check words. Code128's mod-103 checksum is weak: on
the tuning holds of `scripts/bench scan` zxing-cpp read another valid text off two blurred
barcodes (one frame each), where ZBar, an independent decoder, read the right one. So a Code128
text counts when ZBar reads the same text off the same frame, or else once it was read again
within DEPTH frames; never when ZBar reads another text there.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from terminal.scan.decoders import BackendMissing, Decoded, ZbarBackend
from terminal.scan.pipeline import Pipeline, ScanResult, gate, window

DEPTH = 5  # frames looked back: half a second at 10 fps, while a hand barely moves
MIN_FRAMES = 4  # fewer frames average too little noise away (3 read nothing when tuning)
FIRST_WAIT = 5  # kept frames before the first try: a full DEPTH
MIN_SCORE = 0.35  # the gate score a frame needs to be kept (held empty screens score ≤ 0.33)
HALF = 160  # px: the fused patch is 320 px square, a token QR code at the gate's sizes
MIN_RESPONSE = 0.08  # phase correlation peak below which two patches are not the same picture
ECC_STOP = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 12, 1e-3)


class Fusion:
    """Turns each frame's pipeline result into the codes to report for it: the frame's own
    reads or, when it read nothing, a fusion of the last DEPTH frames; Code128 reads confirmed.
    One instance per camera; `update` with each frame in order."""

    def __init__(
        self, pipeline: Pipeline | None = None, second_opinion: bool = True, average: bool = True
    ):
        # The fused patch gets the pipeline's own repairs; a separate instance by default, so
        # a caller's pipeline sees exactly the camera's frames. Without `average`, only the
        # Code128 confirmation runs.
        if average and pipeline is None:
            pipeline = Pipeline(("zxing",))
        self._pipeline = pipeline if average else None
        self._zbar = _zbar() if second_opinion else None
        self._frames: deque[np.ndarray | None] = deque(maxlen=DEPTH)
        self._since_try = 0  # frames kept since the last fusion was tried
        self._wait = FIRST_WAIT  # kept frames before the next try: doubles after each failure
        self._count = 0
        self._seen: dict[Decoded, int] = {}  # Code128 reads: the frame number each was last read
        self._window = cv2.createHanningWindow((2 * HALF, 2 * HALF), cv2.CV_32F)

    def reset(self) -> None:
        self._frames.clear()
        self._seen.clear()
        self._since_try, self._wait = 0, FIRST_WAIT

    def kept(self) -> int:
        """How many of the last DEPTH frames are kept for fusion."""
        return sum(frame is not None for frame in self._frames)

    def update(self, gray: np.ndarray, result: ScanResult) -> list[Decoded]:
        self._count += 1
        codes = result.codes
        if codes:
            self._frames.clear()  # read: a later fusion must not mix this code with the next
        elif self._pipeline is not None:
            codes = self._fused(gray, result)
        return self._confirmed(gray, codes)

    def _confirmed(self, gray: np.ndarray, codes: list[Decoded]) -> list[Decoded]:
        """QR reads as they are; a Code128 read once ZBar agrees on this frame, or once it was
        read before within DEPTH frames (ZBar reading nothing here)."""
        reported = []
        barcodes = [code for code in codes if code.format == "Code128"]
        zbar = set(self._zbar.decode(gray)) if barcodes and self._zbar is not None else set()
        for code in codes:
            if code.format != "Code128" or code in zbar:
                reported.append(code)
            elif zbar:
                continue  # ZBar read another barcode here: neither read is to be trusted
            elif self._count - self._seen.get(code, -DEPTH) < DEPTH:
                reported.append(code)
            self._seen[code] = self._count
        self._seen = {
            code: n
            for code, n in self._seen.items()
            if code.format == "Code128" and self._count - n < DEPTH
        }
        return reported

    def _fused(self, gray: np.ndarray, result: ScanResult) -> list[Decoded]:
        stats = result.stats
        code_like = stats.gated and stats.gate_score >= MIN_SCORE and stats.centre is not None
        if not code_like or min(gray.shape) < 2 * HALF:
            self._frames.append(None)
            if self.kept() == 0:
                self._since_try, self._wait = 0, FIRST_WAIT  # nothing code-like for DEPTH frames
            return []
        self._frames.append(gray.copy())  # a camera may reuse its buffer for the next frame
        self._since_try += 1
        kept = [frame for frame in self._frames if frame is not None]
        # Tried after 5, then 10, 20... more kept frames: a held code is fused once in its first
        # second, a code-like screen held up with no code (moiré) costs little more.
        if len(kept) < MIN_FRAMES or self._since_try < self._wait:
            return []
        self._since_try, self._wait = 0, min(2 * self._wait, 64)
        # Where to fuse: the gate on the kept frames' plain mean (a hand moves a few px a
        # frame), where noise no longer outscores the code as it can in one frame.
        _, centre = gate(np.mean(kept, axis=0).astype(np.uint8))
        stack = self._aligned(kept, centre)
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
            # The hand also turns and comes closer between frames: refine the shift into an
            # affine map (a 2° turn moves a module 4 px at a code's corner).
            warp = np.float32([[1, 0, dx], [0, 1, dy]])
            try:
                _, warp = cv2.findTransformECC(
                    newest, patch, warp, cv2.MOTION_AFFINE, ECC_STOP, None, 5
                )
            except cv2.error:  # no convergence: these two are not the same picture
                continue
            stack.append(
                cv2.warpAffine(
                    patch,
                    warp,
                    patch.shape[::-1],
                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                    borderMode=cv2.BORDER_REPLICATE,
                )
            )
        return stack

    def _read(self, stack: list[np.ndarray]) -> list[Decoded]:
        """The aligned patches' mean, read with the pipeline's repairs. (Their per-pixel median,
        for a finger or band that moved, read nothing on the tuning holds that the mean had
        not, at the same cost again: left out.)"""
        fused = np.clip(np.mean(stack, axis=0), 0, 255).astype(np.uint8)
        codes = self._pipeline.decode(fused).codes
        if codes:
            self._frames.clear()
        return codes


def _zbar() -> ZbarBackend | None:
    try:
        return ZbarBackend(("Code128",))
    except BackendMissing:  # no libzbar0: a Code128 read then needs a second frame to agree
        return None
