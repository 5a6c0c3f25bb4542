"""`qr-terminal hw list` (which backend each device kind would use, and why), `hw check` (each
device's own check), and `hw try KIND` for a technician: beep, show a test pattern, echo keys,
print a test receipt, or show the camera's view with what it decodes."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

from terminal.cli import EXIT_BAD_INPUT

EXIT_PROBLEM = 1

TRY_KINDS = ("display", "input", "feedback", "printer", "camera")


def _config(args: argparse.Namespace):
    from terminal.config.loader import default_device_file, load_config
    from terminal.hw.factory import check_environment

    device_file = args.device if args.device is not None else default_device_file()
    if device_file is not None and not device_file.is_file():
        raise FileNotFoundError(2, "no such device file; give --device FILE", str(device_file))
    config = load_config(device_file=device_file).config
    check_environment()
    return config


def _list(args: argparse.Namespace) -> int:
    from terminal.hw.factory import describe

    choices = describe(_config(args))
    if args.json:
        print(json.dumps([vars(c) for c in choices], ensure_ascii=False, indent=2))
    else:
        for choice in choices:
            print(choice.line())
    return 0


def _check(args: argparse.Namespace) -> int:
    from terminal.hw.factory import check_all

    checks = check_all(_config(args))
    if args.json:
        print(json.dumps([{**vars(c), "ok": c.ok} for c in checks], ensure_ascii=False, indent=2))
    else:
        for check in checks:
            print(check.line())
    return 0 if all(check.ok for check in checks) else EXIT_PROBLEM


def _until(seconds: float):
    """Yields the monotonic time until `seconds` have passed, about 50 times a second."""
    end = time.monotonic() + seconds
    while (now := time.monotonic()) < end:
        yield now
        time.sleep(0.02)  # a technician's loop, not a test: polling at the input's pace


def _try_display(config, args) -> int:
    from terminal.hw.display import pattern_image
    from terminal.hw.factory import open_display

    display = open_display(config)
    try:
        display.show(pattern_image(display.layout, display.name))
        print(display.check().line())
        where = getattr(display, "written", None)
        if where:
            print(f"test pattern written to {where[-1]}")
        for _ in _until(args.seconds):
            if hasattr(display, "pump"):
                display.pump()
    finally:
        display.close()
    return 0


def _keypad_image(layout, targets, pressed: str = ""):
    from PIL import Image, ImageDraw

    from terminal.ui.fonts import FontError, font

    image = Image.new("RGB", layout.canvas, "white")
    draw = ImageDraw.Draw(image)
    try:
        face = font(max(12, layout.canvas[1] // 14))
    except FontError:
        face = None
    draw.text((6, 4), f"key: {pressed}", fill="black", font=face)
    for target in targets:
        draw.rectangle(target.box, outline="#00A0E9", width=2)
        left, top, right, bottom = target.box
        centre = ((left + right) // 2, (top + bottom) // 2)
        draw.text(centre, target.key.value, fill="black", font=face, anchor="mm")
    return image


def _try_input(config, args) -> int:
    from terminal.core.keys import Key
    from terminal.hw.device import DeviceUnavailable
    from terminal.hw.factory import choose, open_display, open_input

    display = None
    if choose("input", config).backend in ("window", "touch"):
        display = open_display(config, png_folder=None)
    try:
        keys = open_input(config, display)
    except BaseException:
        if display is not None:
            display.close()  # the input never opened: the window must not stay behind
        raise
    try:
        print(keys.check().line())
        if display is not None:
            targets = display.layout.keypad_targets(top=display.layout.canvas[1] // 8)
            keys.set_targets(targets)
            display.show(_keypad_image(display.layout, targets))
        print(f"press keys (cancel twice in a row ends; at most {args.seconds:g} s)")
        cancels = 0
        for now in _until(args.seconds):
            for event in keys.events(now):
                print(f"{event.at:12.3f}  {event.source:<8} {event.key.value}", flush=True)
                if display is not None:
                    display.show(_keypad_image(display.layout, targets, event.key.value))
                cancels = cancels + 1 if event.key is Key.CANCEL else 0
                if cancels == 2:
                    return 0
    except DeviceUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_PROBLEM
    finally:
        keys.close()
        if display is not None:
            display.close()
    return 0


def _try_feedback(config, args) -> int:
    from terminal.hw.factory import open_feedback
    from terminal.hw.feedback import Signal

    feedback = open_feedback(config)
    try:
        print(feedback.check().line())
        for signal in (Signal.SUCCESS, Signal.REFUSAL, Signal.KEY_CLICK, Signal.KEY_CLICK):
            print(f"playing {signal.value}", flush=True)
            feedback.play(signal)
            time.sleep(2.2 if signal is not Signal.KEY_CLICK else 0.4)  # let the pattern finish
    finally:
        feedback.close()
    return 0


def sample_slip(config, now: datetime):
    """A slip with the configured merchant and obviously fake transaction facts."""
    from terminal.ui.receipt_image import MerchantFacts, Slip

    m = config.merchant
    merchant = MerchantFacts(
        m.name_ko, m.business_number, m.address_ko, m.representative_ko, m.tax == "exempt",
        config.device.id,
    )  # fmt: skip
    return Slip(
        kind="sale",
        merchant=merchant,
        at=now,
        list_won=1000,
        discount_won=0,
        method="시험 인쇄 (TEST)",
        approval_number="00000000",
        txn_id="00000000-0000-7000-8000-000000000000",
        seq=0,
        cashback=(),
        receipt_url=config.printer.receipt_url + "test",
    )


def _try_printer(config, args) -> int:
    from terminal.hw.factory import open_printer
    from terminal.ui.receipt_image import draw_slip

    printer = open_printer(config)
    if printer is None:
        print(
            "error: printer.backend = 'none': set printer.backend to usb, serial or network "
            "(or QR_TERMINAL_PRINTER=...)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    try:
        check = printer.check()
        print(check.line())
        if not check.ok:
            return EXIT_PROBLEM
        slip = draw_slip(
            sample_slip(config, datetime.now()), printer.paper_width, config.display.font
        )
        printer.print_image(slip)
        print(f"printed a test slip, {slip.width}×{slip.height} dots")
    finally:
        printer.close()
    return 0


def _try_camera(config, args) -> int:
    import numpy as np
    from PIL import Image, ImageDraw

    from terminal.config.merchant import barcode_for
    from terminal.hw.factory import check_camera, open_camera, open_display
    from terminal.scan.pipeline import Pipeline

    camera = open_camera(config.camera, config.paths)
    print(check_camera(camera).line())  # starts and stops it once
    pipeline = Pipeline(
        config.decoder.backends, config.decoder.formats, payment_barcode=barcode_for(config)
    )
    display = open_display(config, png_folder=None)
    try:
        camera.start()
    except BaseException:
        display.close()
        raise
    try:
        for _ in _until(args.seconds):
            frame = camera.read()
            if frame is None:
                break
            codes = pipeline.decode(frame.gray).codes
            for code in codes:
                print(f"{frame.timestamp:10.3f}  {code.format}  {code.text}", flush=True)
            view = Image.fromarray(np.ascontiguousarray(frame.gray)).convert("RGB")
            view = view.resize(display.layout.canvas)
            if codes:
                ImageDraw.Draw(view).rectangle(
                    (0, 0, view.width - 1, view.height - 1), outline="#00C000", width=6
                )
            display.show(view)
    finally:
        camera.stop()
        display.close()
    return 0


_TRY = {
    "display": _try_display,
    "input": _try_input,
    "feedback": _try_feedback,
    "printer": _try_printer,
    "camera": _try_camera,
}


def _try(args: argparse.Namespace) -> int:
    return _TRY[args.kind](_config(args), args)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text}: give between 0 and 3600 seconds")
    return value


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "hw", help="hardware: which backends, their checks, and trying one device"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="which backend each device kind would use and why")
    listing.add_argument("--json", action="store_true", help="print JSON for tools")
    listing.set_defaults(handler=_list)
    check = actions.add_parser("check", help="open each device and print what it found")
    check.add_argument("--json", action="store_true", help="print JSON for tools")
    check.set_defaults(handler=_check)
    trying = actions.add_parser("try", help="exercise one device kind for a technician")
    trying.add_argument("kind", choices=TRY_KINDS, help="the device kind to try")
    trying.add_argument(
        "--seconds", type=_seconds, default=20.0, help="how long to run (default 20)"
    )
    trying.set_defaults(handler=_try)
    for sub in (listing, check, trying):
        sub.add_argument(
            "--device",
            type=Path,
            default=None,
            help="device config file (default: $QR_TERMINAL_DEVICE_FILE, else /etc/qr-terminal/"
            "device.toml)",
        )
