"""`qr-terminal run`: the terminal program (on a Pi, the service's main program)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from terminal.cli import EXIT_BAD_INPUT


def _run(args: argparse.Namespace) -> int:
    from terminal.app.compose import build_app, run_app
    from terminal.config.loader import default_device_file, load_config

    if args.seconds is not None and not 0 < args.seconds < float("inf"):  # nan fails both
        print(f"error: --seconds {args.seconds}: give a positive number", file=sys.stderr)
        return EXIT_BAD_INPUT
    device_file = args.device if args.device is not None else default_device_file()
    if device_file is not None and not device_file.is_file():
        print(f"error: --device {device_file}: no such file; give the device file", file=sys.stderr)
        return EXIT_BAD_INPUT
    env = dict(os.environ)
    if args.state_dir is not None:
        if not args.state_dir.is_dir():
            print(f"error: --state-dir {args.state_dir}: no such directory", file=sys.stderr)
            return EXIT_BAD_INPUT
        env["QR_TERMINAL__PATHS__STATE_DIR"] = str(args.state_dir.resolve())
    if args.display is not None:
        env["QR_TERMINAL_DISPLAY"] = args.display
    config = load_config(device_file=device_file, env=env).config
    from terminal.provision.journald import configure_logging

    # Under systemd each line carries its priority (<3> error ...), so journald files it right.
    configure_logging(logging.DEBUG if args.debug else logging.INFO)
    app = build_app(config, env, platform=not args.no_platform)
    return run_app(app, args.seconds)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "run",
        help="run the terminal: keys, camera, screen, ledger and sync until stopped",
        description="Runs the shopkeeper's terminal until SIGTERM or Ctrl-C; a commit in "
        "progress finishes before it stops. Tells systemd READY/WATCHDOG when $NOTIFY_SOCKET "
        "is set.",
    )
    parser.add_argument(
        "--device",
        type=Path,
        help="device file (default: $QR_TERMINAL_DEVICE_FILE or /etc/qr-terminal/device.toml)",
    )
    parser.add_argument(
        "--state-dir", type=Path, help="the state directory (default: paths.state_dir)"
    )
    parser.add_argument(
        "--display",
        choices=("headless", "window", "framebuffer", "auto"),
        help="display backend for this run (default: display.backend)",
    )
    parser.add_argument("--seconds", type=float, help="stop after this many seconds")
    parser.add_argument(
        "--no-platform", action="store_true", help="run without the platform (offline only)"
    )
    parser.set_defaults(handler=_run)
