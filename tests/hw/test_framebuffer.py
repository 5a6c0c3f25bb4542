"""The framebuffer display against a file laid out like one (sysfs geometry beside it): RGB565
and XRGB8888 with stride padding, rotation, and only the changed rows rewritten."""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from terminal.hw.device import DeviceUnavailable
from terminal.hw.framebuffer import FramebufferDisplay
from terminal.hw.layout import Layout


def fake_framebuffer(tmp_path: Path, size, bpp: int, stride: int) -> tuple[Path, Path]:
    sysfs = tmp_path / "sys-fb"
    sysfs.mkdir()
    (sysfs / "virtual_size").write_text(f"{size[0]},{size[1]}\n")
    (sysfs / "bits_per_pixel").write_text(f"{bpp}\n")
    (sysfs / "stride").write_text(f"{stride}\n")
    device = tmp_path / "fb"
    device.write_bytes(b"\x5a" * stride * size[1])
    return device, sysfs


def decode(raw: bytes, size, bpp: int, stride: int) -> np.ndarray:
    """Reads pixels back the way the panel's controller does, independently of the packer."""
    width, height = size
    rows = np.frombuffer(raw, np.uint8).reshape(height, stride)[:, : width * bpp // 8]
    if bpp == 16:
        words = rows.copy().view("<u2").astype(np.uint32)
        r, g, b = (words >> 11) & 0x1F, (words >> 5) & 0x3F, words & 0x1F
        return np.stack([r << 3, g << 2, b << 3], axis=-1).astype(np.uint8)
    words = rows.copy().view("<u4")
    return np.stack([(words >> 16) & 255, (words >> 8) & 255, words & 255], -1).astype(np.uint8)


def sample(size, seed=1) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


@pytest.mark.parametrize(("bpp", "pad"), [(16, 32), (32, 64), (16, 0)])
def test_pixels_land_where_the_controller_reads_them(tmp_path, bpp, pad):
    size = (320, 240)
    stride = size[0] * bpp // 8 + pad
    device, sysfs = fake_framebuffer(tmp_path, size, bpp, stride)
    display = FramebufferDisplay(str(device), Layout(size), sysfs)
    image = sample(size)
    assert display.show(image)
    display.close()
    shown = decode(device.read_bytes(), size, bpp, stride)
    expected = np.asarray(image)
    if bpp == 16:
        expected = expected & np.array([0xF8, 0xFC, 0xF8], np.uint8)
    assert (shown == expected).all()
    assert display.check().found["format"] == ("RGB565" if bpp == 16 else "XRGB8888")


def test_a_rotated_canvas_is_written_turned(tmp_path):
    panel = (480, 320)
    device, sysfs = fake_framebuffer(tmp_path, panel, 32, 480 * 4)
    layout = Layout(panel, 90)
    display = FramebufferDisplay(str(device), layout, sysfs)
    canvas = Image.new("RGB", layout.canvas, "black")
    canvas.putpixel((0, 0), (255, 0, 0))
    display.show(canvas)
    display.close()
    shown = decode(device.read_bytes(), panel, 32, 480 * 4)
    assert tuple(shown[0, 479]) == (255, 0, 0)
    assert shown[..., 0].sum() == 255


def test_only_changed_rows_are_rewritten_and_an_equal_frame_not_at_all(tmp_path):
    size, stride = (320, 240), 320 * 2 + 16
    device, sysfs = fake_framebuffer(tmp_path, size, 16, stride)
    display = FramebufferDisplay(str(device), Layout(size), sysfs)
    first = Image.new("RGB", size, "white")
    display.show(first)
    # A mark in row 0 that only a rewrite of row 0 would erase.
    with device.open("r+b") as handle:
        handle.write(b"\x01\x02")
    assert not display.show(first.copy())
    second = first.copy()
    second.paste((0, 0, 255), (0, 100, 320, 111))
    assert display.show(second)
    display.close()
    raw = device.read_bytes()
    assert raw[:2] == b"\x01\x02"
    shown = decode(raw, size, 16, stride)
    assert tuple(shown[105, 7]) == (0, 0, 248)
    assert tuple(shown[99, 7]) == (248, 252, 248)


def test_a_panel_of_another_size_is_refused_with_the_keys_to_set(tmp_path):
    device, sysfs = fake_framebuffer(tmp_path, (320, 240), 16, 640)
    with pytest.raises(DeviceUnavailable, match=r"320×240 but display.width"):
        FramebufferDisplay(str(device), Layout((480, 320)), sysfs)


def test_an_absent_device_names_itself_and_the_fix(tmp_path):
    with pytest.raises(DeviceUnavailable, match=r"fb9 does not exist.*dtoverlay"):
        FramebufferDisplay(str(tmp_path / "fb9"), Layout((480, 320)), tmp_path)


@pytest.mark.hardware
def test_the_real_framebuffer_takes_a_test_pattern():
    from terminal.hw.display import pattern_image
    from terminal.hw.framebuffer import read_geometry

    device = os.environ.get("QR_TERMINAL_TEST_FB", "/dev/fb0")
    fd = os.open(device, os.O_RDONLY)
    try:
        geometry = read_geometry(fd, Path("/sys/class/graphics") / Path(device).name)
    finally:
        os.close(fd)
    layout = Layout((geometry.width, geometry.height))
    display = FramebufferDisplay(device, layout)
    assert display.show(pattern_image(layout, "hardware test"))
    assert geometry.source == "ioctl"
    display.close()


@pytest.mark.parametrize("bpp", [16, 32])
def test_a_panel_wired_blue_first_gets_its_channels_swapped(bpp):
    from terminal.hw.pixels import PixelFormat, pack

    image = Image.new("RGB", (4, 2), (255, 0, 0))  # pure red
    swapped = PixelFormat(bpp, 0, 11 if bpp == 16 else 16)
    shown = decode(pack(image, swapped, 4 * bpp // 8).tobytes(), (4, 2), bpp, 4 * bpp // 8)
    # Read with the standard layout, red lands in the blue channel.
    assert tuple(shown[0, 0]) == ((0, 0, 248) if bpp == 16 else (0, 0, 255))
    assert swapped.name == ("BGR565" if bpp == 16 else "XBGR8888")


@pytest.mark.skipif(
    shutil.which("cc") is None or not Path("/usr/include/linux/fb.h").exists(),
    reason="needs a C compiler and the kernel headers (linux-libc-dev) to read linux/fb.h",
)
def test_the_ioctl_structs_match_the_kernels_header(tmp_path):
    """The ioctl path only runs on a real framebuffer; pin its struct layout to linux/fb.h."""
    from terminal.hw.framebuffer import _FIX, _VAR, FBIOGET_FSCREENINFO, FBIOGET_VSCREENINFO

    source = tmp_path / "fb.c"
    source.write_text(
        "#include <linux/fb.h>\n#include <stdio.h>\n#include <stddef.h>\n"
        'int main(void){printf("%zu %zu %zu %zu %zu %u %u\\n",'
        "offsetof(struct fb_var_screeninfo, bits_per_pixel),"
        "offsetof(struct fb_var_screeninfo, red.offset),"
        "offsetof(struct fb_var_screeninfo, blue.offset),"
        "offsetof(struct fb_fix_screeninfo, line_length),"
        "sizeof(struct fb_fix_screeninfo),"
        "(unsigned) FBIOGET_VSCREENINFO, (unsigned) FBIOGET_FSCREENINFO); return 0;}\n"
    )
    subprocess.run(["cc", "-o", str(tmp_path / "fb"), str(source)], check=True, timeout=60)
    out = subprocess.run([str(tmp_path / "fb")], capture_output=True, text=True, check=True)
    bpp, red, blue, line_length, fix_size, get_var, get_fix = map(int, out.stdout.split())
    assert (bpp, red, blue) == (6 * 4, 8 * 4, 14 * 4)  # the fields read_geometry takes
    assert line_length == _FIX.size - 4 and fix_size <= 128
    assert _VAR.size <= 160
    assert (get_var, get_fix) == (FBIOGET_VSCREENINFO, FBIOGET_FSCREENINFO)
