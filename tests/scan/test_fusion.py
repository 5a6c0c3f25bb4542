"""Holds of consecutive frames (the simulator's sequences) and multi-frame fusion."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from terminal.hw.camera import FilesCamera
from terminal.scan.decoders import Decoded
from terminal.scan.fusion import DEPTH, Fusion
from terminal.scan.pipeline import Pipeline, PipelineStats, ScanResult
from terminal.scan.worker import ScanWorker
from terminal.sim.counter import draw_take, hold_takes
from terminal.sim.dataset import HOLD_SPLITS, counter_holds, token_text
from terminal.ui.codeimage import code128_modules, qr_modules

QR_TEXT = token_text(np.random.default_rng(5), barcode=False)


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline(("zxing",))


def test_a_hold_is_deterministic_from_its_seed():
    first = draw_take("finger", QR_TEXT, "QRCode", 4)
    takes = hold_takes(first, 6, 9)
    assert takes == hold_takes(first, 6, 9)
    assert takes != hold_takes(first, 6, 10)
    # The hand moves and turns; the finger slides and presses; the PWM phase rolls.
    assert len({take.centre for take in takes}) == 6
    assert len({take.rotation_deg for take in takes}) == 6
    assert len({take.finger_shift for take in takes}) == 6
    assert all(dataclasses.replace(t, centre=first.centre).text == QR_TEXT for t in takes)


def test_hold_frames_share_the_scene_but_not_the_noise():
    hold = next(counter_holds("low_light", 1, 7, frames=3))
    again = next(counter_holds("low_light", 1, 7, frames=3))
    assert hold.expected == again.expected
    assert all(np.array_equal(a, b) for a, b in zip(hold.frames, again.frames, strict=True))
    first, second = (frame.astype(np.int16) for frame in hold.frames[:2])
    assert not np.array_equal(first, second)
    # The counter stands still: a corner the phone never reaches differs by noise only.
    assert np.abs(first[:40, :40] - second[:40, :40]).mean() < 12


def _noisy_frames(sigma: float, count: int, text: str = QR_TEXT, seed: int = 1):
    """A QR code drifting across a grey counter, each frame with heavy independent noise."""
    rng = np.random.default_rng(seed)
    code = np.where(qr_modules(text, "M"), 40, 230).astype(np.float32)
    code = cv2.resize(code, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
    code = cv2.copyMakeBorder(code, 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=230)
    frames = []
    for n in range(count):
        image = np.full((480, 640), 180, np.float32)
        h, w = code.shape
        y, x = 240 - h // 2 + 2 * n - 6, 320 - w // 2 + 3 * n - 10
        image[y : y + h, x : x + w] = code
        image = cv2.GaussianBlur(image, (0, 0), 1.3) + rng.normal(0, sigma, image.shape)
        frames.append(np.clip(image, 0, 255).astype(np.uint8))
    return frames


def test_fusion_reads_a_noisy_hold_no_single_frame_reads(pipeline):
    """Noise no single frame survives (σ 65: the pipeline reads single frames up to σ ≈ 60)."""
    fusion, reads = Fusion(), []
    for gray in _noisy_frames(sigma=65, count=8):
        result = pipeline.decode(gray)
        assert result.codes == []
        reads += fusion.update(gray, result)
    assert reads and {code.text for code in reads} == {QR_TEXT}


def test_two_codes_alternating_never_fuse_into_a_third(pipeline):
    other = token_text(np.random.default_rng(6), barcode=False)
    ours, theirs = _noisy_frames(60, 8, QR_TEXT, 1), _noisy_frames(60, 8, other, 2)
    fusion, reads = Fusion(), []
    for n in range(8):
        gray = (ours if n % 2 else theirs)[n]
        reads += fusion.update(gray, pipeline.decode(gray))
    assert {code.text for code in reads} <= {QR_TEXT, other}


def test_a_code128_read_counts_once_a_second_frame_agrees():
    barcode = Decoded("Code128", "970000525746759451006209")
    gray = np.zeros((480, 640), np.uint8)  # ZBar reads nothing here: no second opinion
    read = ScanResult([barcode], PipelineStats(step="first"))
    nothing = ScanResult([], PipelineStats())
    fusion = Fusion()
    assert fusion.update(gray, read) == []
    assert fusion.update(gray, nothing) == []
    assert fusion.update(gray, read) == [barcode]
    for _ in range(DEPTH):  # too long apart: the next read needs a partner again
        fusion.update(gray, nothing)
    assert fusion.update(gray, read) == []
    qr = Decoded("QRCode", QR_TEXT)
    assert Fusion().update(gray, ScanResult([qr])) == [qr]  # Reed–Solomon checked


def test_frames_with_nothing_code_like_are_not_kept():
    fusion = Fusion()
    gray = np.zeros((480, 640), np.uint8)
    for score in (0.1, 0.2, 0.3):
        stats = PipelineStats(gated=True, gate_score=score, centre=(320, 240))
        assert fusion.update(gray, ScanResult([], stats)) == []
    assert fusion.kept() == 0


@pytest.mark.parametrize("category", ["finger", "refresh_banding", "hand_motion"])
def test_fused_holds_of_the_fresh_split_read_right(pipeline, category):
    """Holds of the fresh split (not tuned on): of the first three, at least two are read within
    6 frames, and nothing is ever read wrong (a hand_motion hold may stay unread:
    its blur never drops below what the repairs undo)."""
    read = 0
    for hold in counter_holds(category, 3, HOLD_SPLITS["fresh"], frames=6):
        fusion, texts = Fusion(), set()
        for gray in hold.frames:
            texts |= {code.text for code in fusion.update(gray, pipeline.decode(gray))}
        assert texts <= {hold.expected}, f"{hold.name}: wrong text {texts}"
        read += texts == {hold.expected}
    assert read >= 2


def _barcode_frame(text: str) -> np.ndarray:
    bars = np.where(code128_modules(text), 0, 255).astype(np.uint8)[None, :]
    bars = cv2.resize(bars, (bars.shape[1] * 2, 120), interpolation=cv2.INTER_NEAREST)
    frame = np.full((480, 640), 255, np.uint8)
    top, left = 180, (640 - bars.shape[1]) // 2
    frame[top : top + 120, left : left + bars.shape[1]] = bars
    return frame


def test_zbar_agreeing_on_the_same_frame_confirms_a_code128_and_disagreeing_vetoes_it():
    text = "970000525746759451006209"
    gray = _barcode_frame(text)
    right, wrong = Decoded("Code128", text), Decoded("Code128", "971010525772759451006209")
    assert Fusion().update(gray, ScanResult([right])) == [right]
    fusion = Fusion()
    for _ in range(3):  # zxing-cpp's misread, as if repeated: ZBar reads the real text each time
        assert fusion.update(gray, ScanResult([wrong])) == []


def test_the_scan_worker_reports_a_fused_read_once(tmp_path):
    for number, gray in enumerate(_noisy_frames(sigma=65, count=8)):
        cv2.imwrite(str(tmp_path / f"{number:02d}.png"), gray)
    camera = FilesCamera(tmp_path, fps=10)
    worker = ScanWorker(camera, Pipeline(), max_fps=10, hold_release_ms=1500, fuse=True)
    events = worker.run_to_end(60)
    assert [(event.code.text, event.step) for event in events] == [(QR_TEXT, "fusion")]
    plain = ScanWorker(FilesCamera(tmp_path, fps=10), Pipeline(), 10, 1500)  # fuse off
    assert plain.run_to_end(60) == []
