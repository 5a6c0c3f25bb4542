"""`qr-terminal qr static --pdf FILE`: the shop's printed QR stand (고정형 QR), signed by the
device key, as a one-page PDF to print and put on the counter for when the terminal is down."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from terminal.cli import EXIT_BAD_INPUT

DPI = 300
PAGE_MM = (105, 148)  # A6: a card that stands on a counter


def stand_page(payload: str, config, serial: int):
    """The stand as an A6 page at 300 dpi: brand bar, title, merchant, the QR, what to do."""
    from PIL import Image, ImageDraw

    from terminal.ui.codeimage import render_qr
    from terminal.ui.fonts import font

    width, height = (round(mm / 25.4 * DPI) for mm in PAGE_MM)
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    issuer, merchant, face = config.issuer, config.merchant, config.display.font
    bar = height // 9
    draw.rectangle((0, 0, width, bar), fill=issuer.colour_primary)
    draw.text((width // 2, bar // 2), f"{issuer.name_ko} QR 결제", fill="white",
              font=font(bar // 2, face), anchor="mm")  # fmt: skip
    draw.text((width // 2, bar + height // 16), merchant.name_ko, fill="black",
              font=font(height // 22, face), anchor="mm")  # fmt: skip
    side = width * 4 // 5
    top = bar + height // 9
    page.paste(render_qr(payload, side).convert("RGB"), ((width - side) // 2, top))
    serial_line = f"고정형 QR · 일련번호 STAND-{serial:06d} · 단말기 {config.device.id}"
    lines = (
        ("앱으로 스캔하고 금액을 입력하세요", height // 30, "black"),
        ("Scan with the e음 app, then enter the amount", height // 48, "#444444"),
        (serial_line, height // 56, "#444444"),
    )  # fmt: skip
    y = top + side + height // 30
    for text, size, colour in lines:
        draw.text((width // 2, y), text, fill=colour, font=font(size, face), anchor="mm")
        y += int(size * 1.8)
    draw.rectangle((0, height - bar // 3, width, height), fill=issuer.colour_accent)
    return page


def _static(args: argparse.Namespace) -> int:
    from terminal.config.loader import default_device_file, load_config
    from terminal.core.session.stand import Stand, build_stand_qr
    from terminal.provision.layout import StateFiles
    from terminal.signing import DeviceKey

    out: Path = args.pdf
    if out.suffix.lower() != ".pdf":
        print(f"error: --pdf {out}: give a file name ending in .pdf", file=sys.stderr)
        return EXIT_BAD_INPUT
    if out.exists() and not args.force:
        print(f"error: --pdf {out}: already exists; choose another name or add --force",
              file=sys.stderr)  # fmt: skip
        return EXIT_BAD_INPUT
    if not out.parent.is_dir():
        print(f"error: --pdf {out}: no such directory {out.parent}", file=sys.stderr)
        return EXIT_BAD_INPUT
    device_file = args.device if args.device is not None else default_device_file()
    config = load_config(device_file=device_file).config
    key_path = args.key or StateFiles.from_paths(config.paths).key
    if not key_path.is_file():
        print(f"error: --key {key_path}: no device key; a stand must be signed by this "
              "terminal's key (provision the device, or give --key)", file=sys.stderr)  # fmt: skip
        return EXIT_BAD_INPUT
    key = DeviceKey.load(key_path)
    m = config.merchant
    stand = Stand(
        config.platform.guid, m.id, config.device.id, m.mcc, m.name_en, m.city_en, m.name_ko,
        m.city_ko, args.serial, key.kid,
    )  # fmt: skip
    payload = build_stand_qr(stand, key.sign)
    page = stand_page(payload, config, args.serial)
    # Written beside the target and renamed: a failure leaves no half-written PDF behind.
    handle, temporary = tempfile.mkstemp(prefix=".stand-", suffix=".pdf", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            page.save(file, "PDF", resolution=DPI)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    print(payload)
    print(f"wrote {out} (A6, {DPI} dpi, stand STAND-{args.serial:06d})", file=sys.stderr)
    return 0


def _serial(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 999_999:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number from 1 to 999999")
    return int(text)


def add_static(qr_commands: argparse._SubParsersAction) -> None:
    """Registers `qr static` under the `qr` group (terminal/cli/codes.py)."""
    static = qr_commands.add_parser(
        "static",
        help="make the signed static QR stand (고정형, no amount) as a printable PDF",
        description="A static merchant QR signed by this terminal's key, for when the device is "
        "down: the customer's app enters the amount; the terminal sees the payment after sync.",
    )
    static.add_argument("--pdf", type=Path, required=True, help="the PDF to write (A6 page)")
    static.add_argument("--serial", type=_serial, default=1, help="the stand's number (default 1)")
    static.add_argument("--key", type=Path, help="device key PEM (default: the state directory's)")
    static.add_argument("--device", type=Path, help="device file (default: provisioned or none)")
    static.add_argument("--force", action="store_true", help="replace an existing PDF")
    static.set_defaults(handler=_static)
