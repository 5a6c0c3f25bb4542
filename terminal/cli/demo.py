"""`qr-terminal demo`: the whole kit on a laptop (simulator, app, camera, wallet, a shop day)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from terminal.demo import run_demo

    return run_demo(
        workdir=args.workdir,
        headless=args.headless,
        interactive=args.interactive,
        online_sales=args.sales,
    )


def _sales(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 4 <= count <= 500:
        raise argparse.ArgumentTypeError(f"{count} is outside 4–500")
    return count


def register(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo", help="run the whole kit on a laptop: simulator, app, camera, wallet, a shop day"
    )
    demo.add_argument(
        "--workdir", type=Path, help="a new or empty folder for everything the demo makes"
    )
    demo.add_argument(
        "--headless", action="store_true", help="PNG frames only, even where a window could open"
    )
    demo.add_argument(
        "--interactive",
        action="store_true",
        help="type amounts yourself in a window; keys make the customer pay or cut the network",
    )
    demo.add_argument(
        "--sales", type=_sales, default=16, help="online sales before the outage (default 16)"
    )
    demo.set_defaults(handler=_demo)
