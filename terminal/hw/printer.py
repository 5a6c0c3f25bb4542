"""The receipt printer interface and its ESC/POS backend (python-escpos): USB, serial or network
printers print a slip drawn as an image (terminal/ui/receipt_image.py) as a GS v 0 raster, then
cut. The connection opens on first use, so a printer switched on late still prints."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Protocol

from PIL import Image

from terminal.hw.device import DeviceCheck, DeviceUnavailable, missing_library


class ReceiptPrinter(Protocol):
    name: str
    paper_width: int  # dots

    def print_image(self, image: Image.Image) -> None: ...
    def check(self) -> DeviceCheck: ...
    def close(self) -> None: ...


def _escpos():
    try:
        import escpos.printer
    except ImportError:
        raise missing_library(
            "printer", "escpos", "pip install 'python-escpos[usb,serial]'"
        ) from None
    return escpos.printer


def _with_paper_width(printer, width: int):
    """Tells escpos the paper's width in dots; its generic profile says "Unknown" and would
    print a warning on stdout with every image."""
    profile = printer.profile
    profile.profile_data = copy.deepcopy(profile.profile_data)
    profile.profile_data["media"]["width"]["pixels"] = width
    return printer


class EscposPrinter:
    def __init__(
        self,
        name: str,
        device: str,
        connect: Callable[[], object],
        paper_width: int,
        fix: str,
    ):
        self.name, self.device, self.paper_width = name, device, paper_width
        self._connect, self._fix = connect, fix
        self._printer = None

    def _open(self):
        if self._printer is None:
            printer = _with_paper_width(self._connect(), self.paper_width)
            try:
                printer.open()
            except Exception as error:  # escpos, pyusb, pyserial and socket errors all differ
                raise DeviceUnavailable(
                    f"printer: cannot open the {self.name} printer {self.device} "
                    f"({type(error).__name__}: {' '.join(str(error).split())}); {self._fix}"
                ) from None
            self._printer = printer
        return self._printer

    def print_image(self, image: Image.Image) -> None:
        if image.width > self.paper_width:
            raise ValueError(f"slip is {image.width} dots wide, the paper {self.paper_width}")
        page = Image.new("1", (self.paper_width, image.height), 1)
        page.paste(image.convert("1"), ((self.paper_width - image.width) // 2, 0))
        printer = self._open()
        try:
            printer.hw("INIT")
            printer.image(page, impl="bitImageRaster")
            printer.cut()
        except OSError as error:
            self.close()
            raise DeviceUnavailable(
                f"printer: the {self.name} printer {self.device} stopped ({error}); "
                "check power, paper and cable, then print again"
            ) from None

    def check(self) -> DeviceCheck:
        try:
            self._open()
        except DeviceUnavailable as error:
            return DeviceCheck("printer", self.name, self.device, {}, str(error))
        return DeviceCheck(
            "printer", self.name, self.device, {"paper": f"{self.paper_width} dots", "open": "yes"}
        )

    def close(self) -> None:
        if self._printer is not None:
            try:
                self._printer.close()
            finally:
                self._printer = None


def usb_printer(vendor: int, product: int, paper_width: int) -> EscposPrinter:
    printers = _escpos()
    return EscposPrinter(
        "usb",
        f"{vendor:04x}:{product:04x}",
        lambda: printers.Usb(vendor, product),
        paper_width,
        "is it on and plugged in (`lsusb` lists it)? set printer.usb_vendor/usb_product to "
        'its id, and allow the user to write it (a udev rule with MODE="0660", GROUP="lp")',
    )


def serial_printer(device: str, baudrate: int, paper_width: int) -> EscposPrinter:
    printers = _escpos()
    return EscposPrinter(
        "serial",
        device,
        lambda: printers.Serial(devfile=device, baudrate=baudrate),
        paper_width,
        "check printer.serial_device and printer.baudrate (the printer's self-test slip shows "
        "its rate) and that the user is in the 'dialout' group",
    )


def network_printer(host: str, port: int, paper_width: int) -> EscposPrinter:
    if not host:
        raise DeviceUnavailable("printer: printer.backend = 'network' needs printer.host")
    printers = _escpos()
    return EscposPrinter(
        "network",
        f"{host}:{port}",
        lambda: printers.Network(host, port=port, timeout=5),
        paper_width,
        "is the printer on this network? check printer.host and printer.port (usually 9100)",
    )
