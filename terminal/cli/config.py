"""`qr-terminal config show|check`: the effective configuration and file validation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _config_show(args: argparse.Namespace) -> int:
    from terminal.config import ConfigError, default_device_file, load_config, render_effective

    device_file = args.device if args.device is not None else default_device_file()
    try:
        loaded = load_config(device_file=device_file)
    except ConfigError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    print(f"# device file: {device_file or '(none: embedded demo identity)'}")
    print(render_effective(loaded))
    return 0


def _config_check(args: argparse.Namespace) -> int:
    from terminal.config import check_file

    failed = 0
    for path in args.files:
        problems = check_file(path)
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        if problems:
            failed += 1
        else:
            print(f"ok: {path}")
    return 2 if failed else 0


def register(commands: argparse._SubParsersAction) -> None:
    config = commands.add_parser("config", help="show or check the configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = config_commands.add_parser(
        "show", help="print the effective configuration and where each value came from"
    )
    show.add_argument("--device", type=Path, help="device file (default: provisioned or none)")
    show.set_defaults(handler=_config_show)
    check = config_commands.add_parser("check", help="validate config files; non-zero on error")
    check.add_argument(
        "files", type=Path, nargs="+", metavar="FILE", help="defaults, issuer or device TOML"
    )
    check.set_defaults(handler=_config_check)
