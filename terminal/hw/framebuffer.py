"""The Linux framebuffer display (/dev/fb0, /dev/fb1 for SPI panels): works on Pi OS Lite with
no desktop. Geometry, pixel format and stride come from the device (ioctl), else from sysfs;
only the band of rows that changed since the last frame is written."""

from __future__ import annotations

import errno
import fcntl
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from terminal.hw.device import DeviceCheck, DeviceUnavailable
from terminal.hw.layout import Layout
from terminal.hw.pixels import RGB565, XRGB8888, PixelFormat, changed_rows, pack

FBIOGET_VSCREENINFO = 0x4600
FBIOGET_FSCREENINFO = 0x4602
# fb_var_screeninfo starts xres, yres, xres_virtual, yres_virtual, xoffset, yoffset,
# bits_per_pixel, grayscale, then red/green/blue/transp as (offset, length, msb_right).
_VAR = struct.Struct("=8I12I")
# fb_fix_screeninfo: id[16], smem_start (unsigned long), smem_len, type, type_aux, visual,
# xpanstep, ypanstep, ywrapstep, line_length: native alignment matches the kernel's struct.
_FIX = struct.Struct("@16sLIIIIHHHI")


@dataclass(frozen=True)
class Geometry:
    width: int
    height: int
    stride: int  # bytes per row, often more than width × bytes per pixel
    format: PixelFormat
    source: str  # "ioctl" or the sysfs directory read


def read_geometry(fd: int, sysfs: Path) -> Geometry:
    """Asks the driver (ioctl); a plain file or a driver without the ioctl falls back to sysfs."""
    try:
        var = _VAR.unpack(fcntl.ioctl(fd, FBIOGET_VSCREENINFO, bytes(160))[: _VAR.size])
        fix = _FIX.unpack(fcntl.ioctl(fd, FBIOGET_FSCREENINFO, bytes(128))[: _FIX.size])
    except OSError as error:
        if error.errno not in (errno.ENOTTY, errno.EINVAL):
            raise
        return _sysfs_geometry(sysfs)
    bpp, red_offset, blue_offset = var[6], var[8], var[14]
    return Geometry(var[0], var[1], fix[-1], PixelFormat(bpp, red_offset, blue_offset), "ioctl")


def _sysfs_geometry(sysfs: Path) -> Geometry:
    try:
        width, height = (int(v) for v in (sysfs / "virtual_size").read_text().split(","))
        bpp = int((sysfs / "bits_per_pixel").read_text())
        stride = int((sysfs / "stride").read_text())
    except (OSError, ValueError) as error:
        raise DeviceUnavailable(
            f"display: cannot read the framebuffer geometry from {sysfs} ({error}); "
            "is this a framebuffer device?"
        ) from None
    fmt = {16: RGB565, 32: XRGB8888}.get(bpp)
    if fmt is None:
        raise DeviceUnavailable(f"display: {bpp} bits per pixel in {sysfs}; use 16 or 32")
    return Geometry(width, height, stride, fmt, str(sysfs))


class FramebufferDisplay:
    name = "framebuffer"

    def __init__(self, device: str, layout: Layout, sysfs: Path | None = None):
        self.device, self.layout = device, layout
        self.sysfs = sysfs or Path("/sys/class/graphics") / Path(device).name
        self._fd = self._open()
        try:
            self.geometry = read_geometry(self._fd, self.sysfs)
            self._check_fits()
        except BaseException:
            os.close(self._fd)
            raise
        self._last: np.ndarray | None = None

    def _open(self) -> int:
        try:
            return os.open(self.device, os.O_RDWR | os.O_CLOEXEC)
        except FileNotFoundError:
            raise DeviceUnavailable(
                f"display: {self.device} does not exist; enable the panel's driver (dtoverlay "
                "in /boot/firmware/config.txt) or set display.backend = 'window' or 'headless'"
            ) from None
        except PermissionError:
            raise DeviceUnavailable(
                f"display: no permission to write {self.device}; "
                "add the user to the 'video' group (sudo usermod -aG video $USER)"
            ) from None

    def _check_fits(self) -> None:
        geometry = self.geometry
        if geometry.format.bits_per_pixel not in (16, 32):
            raise DeviceUnavailable(
                f"display: {self.device} uses {geometry.format.bits_per_pixel} bits per pixel; "
                "set it to 16 or 32 (framebuffer_depth in config.txt, or fbset -depth 16)"
            )
        if (geometry.width, geometry.height) != self.layout.panel:
            raise DeviceUnavailable(
                f"display: {self.device} is {geometry.width}×{geometry.height} but display.width "
                f"× height say {self.layout.panel[0]}×{self.layout.panel[1]}; set them to match"
            )

    def show(self, image: Image.Image) -> bool:
        rows = pack(self.layout.to_panel(image), self.geometry.format, self.geometry.stride)
        band = changed_rows(self._last, rows)
        if band is None:
            return False
        first, last = band
        # A slice of whole rows is contiguous: pwrite takes it as a buffer, without a copy.
        os.pwrite(self._fd, rows[first : last + 1], first * self.geometry.stride)
        self._last = rows
        return True

    def check(self) -> DeviceCheck:
        g = self.geometry
        return DeviceCheck(
            "display",
            self.name,
            self.device,
            {
                "size": f"{g.width}×{g.height}",
                "format": g.format.name,
                "stride": str(g.stride),
                "rotation": str(self.layout.rotation),
                "read from": g.source,
            },
        )

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
