"""`qr-terminal emv parse` and `qr-terminal qr sale`: payment codes from the command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

from terminal.core import emv
from terminal.core.sale_qr import SaleQrError, build_sale_qr

# A QR code holds at most 7,089 digits (version 40); no EMV payload is longer. Lines are read
# up to this, so a huge input is neither kept in memory nor echoed back.
MAX_PAYLOAD = 7089


def _stdin_payloads() -> list[str]:
    payloads = []
    while line := sys.stdin.readline(MAX_PAYLOAD + 2):
        if len(line.rstrip("\r\n")) > MAX_PAYLOAD:
            raise PayloadTooLong(
                f"stdin line {len(payloads) + 1}: over {MAX_PAYLOAD} characters; not a QR payload"
            )
        if line.strip():
            payloads.append(line.rstrip("\r\n"))
    return payloads


class PayloadTooLong(ValueError):
    """An input far longer than any QR code can hold."""


def _shown(payload: str) -> str:
    return payload if len(payload) <= 120 else f"{payload[:100]}… ({len(payload)} characters)"


def _emv_parse(args: argparse.Namespace) -> int:
    for payload in args.payloads:
        if len(payload) > MAX_PAYLOAD:
            raise PayloadTooLong(f"a PAYLOAD of {len(payload)} characters: not a QR payload")
    payloads = args.payloads or _stdin_payloads()
    if not payloads:
        print("error: no payload given: pass PAYLOAD arguments or lines on stdin", file=sys.stderr)
        return 2
    status = 0
    for payload in payloads:
        try:
            objects, warnings = emv.parse_report(payload)
        except emv.EmvError as error:
            _print_json({"payload": payload, "valid": False, "error": str(error)})
            print(f"invalid: {error}: {_shown(payload)}", file=sys.stderr)
            status = 2
            continue
        tree = {"payload": payload, "valid": True, "objects": emv.to_tree(objects)}
        tree |= {"crc": payload[-4:], "warnings": list(warnings)}
        for warning in warnings:
            print(f"warning: {warning}: {_shown(payload)}", file=sys.stderr)
        _print_json(tree)
    return status


def _print_json(value: object) -> None:
    # Hangul names stay readable: UTF-8, not \uXXXX escapes.
    print(json.dumps(value, ensure_ascii=False))


def _qr_sale(args: argparse.Namespace) -> int:
    from terminal.config import ConfigError, default_device_file, load_config
    from terminal.config.merchant import price_for, sale_for
    from terminal.core.money import AmountError, format_won, parse_won
    from terminal.signing import DeviceKey, KeyFileError
    from terminal.ui.codeimage import RenderError, render_qr

    if args.png is not None:
        refuse_png_target(args.png, args.force)  # before any work: nothing to undo
    try:
        amount = parse_won(args.amount)
        config = load_config(device_file=args.device or default_device_file()).config
        if args.key:
            key = DeviceKey.load(args.key)
        else:
            key = DeviceKey.generate()
            print("note: no --key given; signed with a throwaway key", file=sys.stderr)
        price = price_for(config, amount)  # the QR asks for what the customer pays
        if price.discount_won:
            print(
                f"note: 선할인 {format_won(price.discount_won)} off the list "
                f"{format_won(price.list_won)}: the QR asks for {format_won(price.charged_won)}",
                file=sys.stderr,
            )
        sale = sale_for(config, price.charged_won, key.kid, time.time(), os.urandom(8))
        payload = build_sale_qr(sale, key.sign)
        if args.png:
            write_png(render_qr(payload, args.size), args.png, args.force)
    except ConfigError as error:
        print("\n".join(f"error: {p}" for p in error.problems), file=sys.stderr)
        return 2
    except (AmountError, KeyFileError, SaleQrError, RenderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(payload)
    return 0


class OutputRefused(ValueError):
    """The output file named cannot be written as asked; the message says what to give."""


def refuse_png_target(path: Path, force: bool) -> None:
    """A PNG goes to a new file with a .png name, or over an existing regular file with
    --force; never over a device, a fifo or a directory."""
    from terminal.files import refuse_non_regular_target

    if path.suffix.lower() != ".png":
        raise OutputRefused(f"--png {path}: give a file name ending in .png")
    refuse_non_regular_target(path)
    if path.exists() and not force:
        raise OutputRefused(
            f"--png {path}: exists; choose a new file, or add --force to replace it"
        )


def write_png(image, path: Path, force: bool) -> None:
    """Writes beside `path` first, then renames: a full disk leaves no empty or half PNG."""
    import io
    import tempfile

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(buffer.getvalue())
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        if force:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # fails if the file appeared meanwhile: never overwrite
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


# A code image is shown on a display or printed: nothing larger than the biggest display
# (800×480) needs more than 2048 px, and a larger request would only cost memory.
PNG_SIZES = range(64, 2049)


def _png_size(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of pixels") from None
    if size not in PNG_SIZES:
        raise argparse.ArgumentTypeError(
            f"{size} px is outside {PNG_SIZES.start}–{PNG_SIZES.stop - 1}; give a display's size"
        )
    return size


def register(commands: argparse._SubParsersAction) -> None:
    emv_parser = commands.add_parser("emv", help="EMV merchant-presented QR payloads")
    emv_commands = emv_parser.add_subparsers(dest="emv_command", required=True, metavar="ACTION")
    parse = emv_commands.add_parser(
        "parse", help="print each payload as a JSON tree; exit 2 if any is invalid"
    )
    parse.add_argument("payloads", nargs="*", metavar="PAYLOAD", help="default: lines of stdin")
    parse.set_defaults(handler=_emv_parse)

    qr_parser = commands.add_parser("qr", help="build payment QR codes")
    qr_commands = qr_parser.add_subparsers(dest="qr_command", required=True, metavar="ACTION")
    sale = qr_commands.add_parser(
        "sale", help="build, sign and render a dynamic sale QR; print its payload"
    )
    sale.add_argument(
        "--amount",
        required=True,
        help="list amount in won, e.g. 12000 or 12,000 (less the merchant's 선할인, if any)",
    )
    sale.add_argument("--png", type=Path, help="write the QR as a PNG image here (a new file)")
    sale.add_argument("--force", action="store_true", help="replace an existing --png file")
    sale.add_argument(
        "--size",
        type=_png_size,
        default=480,
        help=f"PNG size in pixels, {PNG_SIZES.start}–{PNG_SIZES.stop - 1} (default 480)",
    )
    sale.add_argument("--key", type=Path, help="device key PEM (default: a throwaway key)")
    sale.add_argument("--device", type=Path, help="device file (default: provisioned or none)")
    sale.set_defaults(handler=_qr_sale)
    from terminal.cli.static_qr import add_static  # `qr static`: the printed stand

    add_static(qr_commands)
