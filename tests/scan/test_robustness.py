"""Bad input to `decode` and a failing pipeline in the scan worker: refused or reported, never a
traceback, never the end of the batch or of the scanning."""

from __future__ import annotations

import json
import struct
import zlib

import cv2
import numpy as np
import pytest

from terminal.cli import main
from terminal.scan.pipeline import Pipeline
from terminal.scan.worker import ScanFault, ScanWorker
from terminal.sim.camera import SimCamera, customer_shows
from tests.scan.test_scanning import TOKEN_TEXT


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width × height pixels in a few dozen bytes (a decompression bomb's
    header: the size is all the refusal may look at)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _write(folder, name: str, content) -> str:
    path = folder / name
    if isinstance(content, np.ndarray):
        cv2.imwrite(str(path), content)
    else:
        path.write_bytes(content)
    return str(path)


BAD_FILES = {
    "bomb.png": (_png_header_only(32000, 32000), "32000×32000 px is over the limit"),
    "text.png": (b"not an image at all", "not an image"),
    "empty.png": (b"", "not an image"),
    "cut.png": (_png_header_only(64, 64)[:40], "not an image"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_gets_its_own_error_line_and_the_batch_goes_on(tmp_path, capsys, name):
    content, message = BAD_FILES[name]
    bad = _write(tmp_path, name, content)
    good = _write(tmp_path, "blank.png", np.full((60, 60), 255, np.uint8))
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["decode", bad, good]) == 2
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["file"] for line in lines] == [bad, good]
    assert message in lines[0]["error"] and lines[1]["codes"] == []
    assert err.count("\n") == 1 and f"error: {bad}: {message}" in err
    assert "Traceback" not in out + err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 50), (50, 3), (31, 31)])
def test_images_under_the_gate_size_are_decoded_not_crashed_on(tmp_path, capsys, shape):
    tiny = _write(tmp_path, "tiny.png", np.zeros(shape, np.uint8))
    assert main(["decode", tiny, tiny]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["codes"] for line in lines] == [[], []]


def test_the_pixel_limit_is_an_option_checked_before_decoding(tmp_path, capsys):
    image = _write(tmp_path, "big.png", np.full((200, 300), 255, np.uint8))
    assert main(["decode", "--max-pixels", "59999", image]) == 2
    assert "300×200 px is over the limit of 59,999 pixels" in capsys.readouterr().err
    assert main(["decode", "--max-pixels", "60000", image]) == 0


def test_directory_and_missing_file_are_named(tmp_path, capsys):
    assert main(["decode", str(tmp_path), str(tmp_path / "nope.png")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}: not a regular file" in err and "nope.png: no such file" in err


class FailsOnSomeFrames:
    """The real pipeline, except that it raises on chosen frames (a decoder library's bug)."""

    def __init__(self, failing: set[int]):
        self.pipeline, self.failing, self.calls = Pipeline(), failing, 0

    def decode(self, gray, may_repair=None):
        self.calls += 1
        if self.calls in self.failing:
            raise ValueError("zxing choked\non this frame")
        return self.pipeline.decode(gray, may_repair)


def test_worker_reports_pipeline_failures_and_keeps_scanning():
    camera = SimCamera(customer_shows(TOKEN_TEXT), fps=10, seed=3)
    pipeline = FailsOnSomeFrames({1, 2, 12})  # two while nobody is there, one mid-hold
    worker = ScanWorker(camera, pipeline, max_fps=10, hold_release_ms=1500)
    events = worker.run_to_end(timeout=120)
    assert [e.code.text for e in events] == [TOKEN_TEXT]
    faults = []
    while not worker.faults.empty():
        faults.append(worker.faults.get_nowait())
    assert [f.frame_index for f in faults] == [1, 2, 12]
    assert all(isinstance(f, ScanFault) and f.message == "ValueError: zxing choked" for f in faults)
    stats = worker.stats()
    assert stats.pipeline_errors == 3 and stats.last_error == "frame 12: ValueError: zxing choked"
    assert stats.frames_decoded == stats.frames_read == pipeline.calls
