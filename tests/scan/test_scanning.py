"""Holds, the scan worker with the simulated camera, cameras' errors, decoders' formats, CLI."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import zxingcpp

from terminal.cli import main
from terminal.hw.camera import CameraError, FilesCamera, Picamera2Camera, V4l2Camera
from terminal.scan.decoders import Decoded, ZbarBackend, ZxingBackend, load_backends
from terminal.scan.holds import HoldTracker
from terminal.scan.imaging import deblurred, motion_kernel
from terminal.scan.pipeline import Pipeline
from terminal.scan.worker import ScanWorker
from terminal.sim.camera import SimCamera, customer_shows
from tests.scan.photos import PHOTOS, needs_photos

TOKEN_TEXT = "EU1:" + "7%W4QJ+8X0MFK6B.-:/$*ZNPAT" * 5

A, B = Decoded("QRCode", "A"), Decoded("Code128", "B")


def test_hold_reports_a_code_once_while_it_stays_in_view():
    holds = HoldTracker(release_ms=1000)
    assert holds.update([A], 0) == [A]
    assert holds.update([A], 500) == []
    assert holds.update([], 900) == []
    assert holds.update([A, B], 1400) == [B]  # A seen 900 ms ago: the same hold


def test_hold_ends_after_the_release_time():
    holds = HoldTracker(release_ms=1000)
    holds.update([A], 0)
    assert holds.update([A], 1001) == [A]


def test_hold_forgets_old_codes():
    holds = HoldTracker(release_ms=100)
    for index in range(1000):
        holds.update([Decoded("QRCode", str(index))], index * 200)
    assert len(holds._last_seen) == 1


def test_customer_showing_a_token_is_reported_exactly_once():
    camera = SimCamera(customer_shows(TOKEN_TEXT), fps=15, seed=3)
    worker = ScanWorker(camera, Pipeline(), max_fps=15, hold_release_ms=1500)
    events = worker.run_to_end(timeout=120)
    assert [(e.code.format, e.code.text) for e in events] == [("QRCode", TOKEN_TEXT)]
    stats = worker.stats()
    assert stats.frames_read == stats.frames_decoded == round(camera.total_seconds * 15)
    assert 14 <= stats.fps <= 16 and stats.last_error is None


def test_worker_skips_frames_above_its_rate():
    camera = SimCamera(customer_shows(TOKEN_TEXT), fps=30, seed=3)
    worker = ScanWorker(camera, Pipeline(), max_fps=10, hold_release_ms=1500)
    assert len(worker.run_to_end(timeout=120)) == 1
    stats = worker.stats()
    assert stats.frames_read == round(camera.total_seconds * 30)
    assert stats.frames_decoded <= stats.frames_read / 3 + 1


def test_code128_barcode_on_a_phone_is_read():
    camera = SimCamera(customer_shows("97123456789012345675", "Code128", code_width=380), seed=1)
    worker = ScanWorker(camera, Pipeline(), max_fps=15, hold_release_ms=1500)
    events = worker.run_to_end(timeout=120)
    assert [e.code for e in events] == [Decoded("Code128", "97123456789012345675")]


def test_other_symbologies_are_never_reported():
    itf = zxingcpp.create_barcode("12345678", zxingcpp.BarcodeFormat.ITF)
    image = np.asarray(itf.to_image(scale=4))
    assert zxingcpp.read_barcodes(image)  # the code is there ...
    assert ZxingBackend().decode(image) == []  # ... but not for a payment terminal
    assert ZbarBackend().decode(image) == []
    assert Pipeline().decode(image).codes == []


def test_unknown_backend_is_refused_and_missing_ones_are_skipped(caplog):
    with pytest.raises(ValueError, match="unknown decoder backend"):
        load_backends(["zxing", "quagga"])
    assert set(load_backends(["zxing", "zbar", "opencv"])) == {"zxing", "zbar", "opencv"}


def test_usb_camera_that_is_absent_names_the_device():
    with pytest.raises(CameraError, match="/dev/video99 does not exist"):
        V4l2Camera("/dev/video99").start()


def test_pi_camera_without_picamera2_says_how_to_install():
    pytest.importorskip("numpy")
    try:
        import picamera2  # noqa: F401
    except ImportError:
        with pytest.raises(CameraError, match="python3-picamera2"):
            Picamera2Camera().start()
    else:
        pytest.skip("picamera2 is installed: covered by the hardware test")


def test_files_camera_plays_a_folder_once(tmp_path):
    for index in range(3):
        cv2.imwrite(str(tmp_path / f"{index}.png"), np.full((48, 64), index * 50, np.uint8))
    camera = FilesCamera(tmp_path, fps=10)
    camera.start()
    frames = [camera.read() for _ in range(4)]
    assert [f.gray[0, 0] for f in frames[:3]] == [0, 50, 100] and frames[3] is None
    assert [f.timestamp for f in frames[:3]] == [0.0, 0.1, 0.2]


@pytest.mark.parametrize("make", [lambda p: p / "missing", lambda p: p])
def test_files_camera_refuses_missing_or_empty_sources(tmp_path, make):
    with pytest.raises(CameraError):
        FilesCamera(make(tmp_path)).start()


@pytest.mark.hardware
def test_real_pi_camera_delivers_greyscale_frames():
    camera = Picamera2Camera()
    camera.start()
    try:
        frame = camera.read()
        assert frame.gray.shape == (480, 640) and frame.gray.dtype == np.uint8
    finally:
        camera.stop()


def test_packed_spectrum_deblur_matches_the_textbook_formula():
    rng = np.random.default_rng(2)
    gray = cv2.GaussianBlur(rng.integers(0, 255, (120, 160)).astype(np.uint8), (0, 0), 2)
    ours = next(deblurred(gray, 30.0, [9.0]))
    kernel = motion_kernel(9.0, 30.0)
    padded = np.zeros(gray.shape)
    padded[: kernel.shape[0], : kernel.shape[1]] = kernel
    padded = np.roll(padded, (-(kernel.shape[0] // 2),) * 2, axis=(0, 1))
    h, g = np.fft.fft2(padded), np.fft.fft2(gray)
    expected = np.real(np.fft.ifft2(g * np.conj(h) / (np.abs(h) ** 2 + 0.01)))
    assert np.abs(ours.astype(int) - np.clip(expected, 0, 255).astype(np.uint8)).max() <= 1


@needs_photos
def test_decode_command_prints_json_per_image(capsys):
    photo = PHOTOS / "code128-1" / "1.png"
    assert main(["decode", str(photo)]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["file"] == str(photo) and line["codes"] == [{"format": "Code128", "text": "168901"}]
    assert line["ms"] >= 0


def test_decode_command_exits_0_when_nothing_is_found_and_2_for_unreadable(tmp_path, capsys):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((100, 100), 255, np.uint8))
    assert main(["decode", str(blank)]) == 0
    assert json.loads(capsys.readouterr().out)["codes"] == []
    assert main(["decode", str(tmp_path / "nope.png")]) == 2


def test_camera_is_chosen_by_configuration(tmp_path):
    import dataclasses

    from terminal.config import load_config
    from terminal.hw.factory import open_camera

    config = load_config(env={}).config
    camera = open_camera(config.camera, config.paths)
    assert isinstance(camera, SimCamera) and camera.size == (480, 640)
    usb = dataclasses.replace(config.camera, backend="v4l2", device="/dev/video7")
    assert isinstance(open_camera(usb, config.paths), V4l2Camera)
    files = dataclasses.replace(config.camera, backend="files")
    with pytest.raises(CameraError, match=r"paths\.camera_files"):
        open_camera(files, config.paths)
    paths = dataclasses.replace(config.paths, camera_files=str(tmp_path))
    assert isinstance(open_camera(files, paths), FilesCamera)


def test_files_camera_plays_a_video_and_the_worker_reads_the_code_once(tmp_path):
    video = tmp_path / "counter.avi"
    camera = SimCamera(customer_shows(TOKEN_TEXT), fps=10, seed=4)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480), False)
    assert writer.isOpened()
    while (frame := camera.read()) is not None:
        writer.write(frame.gray)
    writer.release()
    worker = ScanWorker(FilesCamera(video, fps=10), Pipeline(), max_fps=10, hold_release_ms=1500)
    events = worker.run_to_end(timeout=120)
    assert [e.code.text for e in events] == [TOKEN_TEXT]
    assert worker.stats().frames_read == round(camera.total_seconds * 10)
