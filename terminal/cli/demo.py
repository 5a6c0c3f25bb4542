"""`qr-terminal demo`: the kit end to end on its embedded defaults."""

from __future__ import annotations

import argparse
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from terminal.demo import run_demo

    return run_demo(workdir=args.workdir, headless=args.headless)


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser("demo", help="run the kit end to end on its embedded defaults")
    demo.add_argument("--workdir", type=Path, help="keep every file the demo makes in DIR")
    demo.add_argument("--headless", action="store_true", help="never open a window")
    demo.set_defaults(handler=_demo)
