"""The `qr-terminal` command line: builds the parser from one module per command group and runs
the chosen handler inside one error boundary."""

from __future__ import annotations

import argparse
import importlib
import sys

from terminal import __version__

# One module per command group under terminal/cli/, each with `register(subparsers)`.
# Add a group by adding its module name here.
GROUPS = ("demo", "config", "codes", "scan", "journal")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qr-terminal",
        description="QR payment terminal kit for 인천e음 merchants.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in GROUPS:
        importlib.import_module(f"terminal.cli.{name}").register(commands)
    return parser


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
