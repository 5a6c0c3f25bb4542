"""`scripts/bench display`: what a frame costs on the framebuffer, against copying its bytes.

Contestants per round, in a shuffled order (a file laid out like the panel's framebuffer):
- copy: pwrite of an already packed full frame, the floor of any framebuffer display;
- full: pack a new frame (RGB565 or XRGB8888) and write all its rows;
- band: pack a frame that differs from the last in one on-screen key, write the changed rows;
- same: pack a frame equal to the last and write nothing.
Then a receipt: drawing the slip, its ESC/POS bytes, and how long a 9600-baud serial printer
needs for them."""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from terminal.hw.framebuffer import FramebufferDisplay
from terminal.hw.layout import Layout

PANELS = (((480, 320), 16), ((800, 480), 32))


def _fake_framebuffer(folder: Path, size, bpp: int) -> tuple[str, Path]:
    stride = size[0] * bpp // 8
    sysfs = folder / f"sys-{size[0]}-{bpp}"
    sysfs.mkdir()
    (sysfs / "virtual_size").write_text(f"{size[0]},{size[1]}")
    (sysfs / "bits_per_pixel").write_text(str(bpp))
    (sysfs / "stride").write_text(str(stride))
    device = folder / f"fb-{size[0]}-{bpp}"
    device.write_bytes(bytes(stride * size[1]))
    return str(device), sysfs


def _frames(size) -> tuple[Image.Image, Image.Image]:
    rng = np.random.default_rng(1)
    base = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    pressed = base.copy()
    ImageDraw.Draw(pressed).rectangle((10, size[1] - 60, 110, size[1] - 10), fill="#00A0E9")
    return base, pressed


def _panel(size, bpp: int, repeat: int, folder: Path) -> None:
    device, sysfs = _fake_framebuffer(folder, size, bpp)
    display = FramebufferDisplay(device, Layout(size), sysfs)
    base, pressed = _frames(size)
    display.show(base)
    packed = Path(device).read_bytes()
    fd = os.open(device, os.O_WRONLY)
    toggle = [base, pressed]

    def copy():
        os.pwrite(fd, packed, 0)

    def full():
        display._last = None  # forget the last frame: every row is written
        display.show(toggle[0])

    def band():
        toggle.reverse()
        display.show(toggle[0])

    def same():
        display.show(toggle[0])

    contestants = {"copy": copy, "full": full, "band": band, "same": same}
    samples: dict[str, list[float]] = {name: [] for name in contestants}
    for _ in range(repeat):
        for name in random.sample(list(contestants), len(contestants)):
            start = time.perf_counter()
            contestants[name]()
            samples[name].append((time.perf_counter() - start) * 1e3)
    os.close(fd)
    display.close()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    label = f"{size[0]}×{size[1]} {'RGB565' if bpp == 16 else 'XRGB8888'}"
    print(f"\n## display: {label}, {len(packed) // 1024} KiB a frame")
    print(f"{'contestant':12} {'median ms':>10} {'× copy':>8}")
    for name, value in medians.items():
        print(f"{name:12} {value:10.3f} {value / medians['copy']:8.2f}")


def _receipt(repeat: int) -> None:
    from datetime import datetime

    from terminal.sim.printer import DummyPrinter
    from terminal.ui.receipt_image import MerchantFacts, Slip, draw_slip

    txn = "0190a1b2-c3d4-7e5f-8a9b-0123456789ab"
    merchant = MerchantFacts(
        "혜택플러스 분식", "123-45-67890", "인천광역시 부평구 부평대로 1", "홍길동", False, "SIM-1"
    )
    slip = Slip(
        "sale",
        merchant,
        datetime(2026, 11, 22, 19, 30),
        12000,
        600,
        "인천e음 QR",
        "00001234",
        txn,
        42,
        (("인천시 캐시백", 1140), ("부평구 캐시백", 228)),
        f"https://receipt.example.invalid/r/{txn}",
    )
    times = []
    for _ in range(max(3, repeat // 5)):
        start = time.perf_counter()
        image = draw_slip(slip, 384)
        printer = DummyPrinter(384)
        printer.print_image(image)
        times.append((time.perf_counter() - start) * 1e3)
    size = len(printer.output)
    print(f"\n## display: receipt slip 384 dots × {image.height} rows")
    print(f"draw + ESC/POS raster: {statistics.median(times):.1f} ms median, {size} bytes")
    print(f"at 9600 baud (8N1): {size * 10 / 9600:.1f} s; at 115200: {size * 10 / 115200:.1f} s")


def bench_display(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for size, bpp in PANELS:
            _panel(size, bpp, repeat, Path(folder))
    _receipt(repeat)
