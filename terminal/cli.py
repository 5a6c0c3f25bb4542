"""The `qr-terminal` command line: parses arguments and hands each subcommand to its module."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from terminal import __version__


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


def _demo(args: argparse.Namespace) -> int:
    from terminal.demo import run_demo

    return run_demo(workdir=args.workdir, headless=args.headless)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qr-terminal",
        description="QR payment terminal kit for 인천e음 merchants.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the kit end to end on its embedded defaults")
    demo.add_argument("--workdir", type=Path, help="keep every file the demo makes in DIR")
    demo.add_argument("--headless", action="store_true", help="never open a window")
    demo.set_defaults(handler=_demo)

    config = commands.add_parser("config", help="show or check the configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = config_commands.add_parser(
        "show", help="print the effective configuration and where each value came from"
    )
    show.add_argument("--device", type=Path, help="device file (default: provisioned or none)")
    show.set_defaults(handler=_config_show)
    check = config_commands.add_parser("check", help="validate config files; non-zero on error")
    check.add_argument("files", type=Path, nargs="+", metavar="FILE")
    check.set_defaults(handler=_config_check)

    for register in _extra_commands():
        register(commands)
    return parser


def _extra_commands():
    """Subcommand groups owned by other modules, each a `register(subparsers)` function."""
    from terminal import codes_cli
    from terminal.ledger import cli as ledger_cli
    from terminal.scan import cli as scan_cli

    return [codes_cli.register, scan_cli.register, ledger_cli.register]


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
