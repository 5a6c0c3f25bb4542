"""`qr-terminal maintain renew-cert|close-day`: the jobs the systemd timers run."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _context(args):
    from terminal.config.loader import default_device_file, load_config
    from terminal.provision.layout import StateFiles

    config = load_config(device_file=args.device or default_device_file()).config
    return config, StateFiles.from_paths(config.paths)


def _renew(args: argparse.Namespace) -> int:
    from terminal.provision.maintenance import MaintenanceError, renew_certificate

    config, files = _context(args)
    try:
        result = renew_certificate(
            files, config.platform.url, int(time.time() * 1000), args.days_before, force=args.force
        )
    except MaintenanceError as error:
        print(f"<3>certificate renewal failed: {error}", file=sys.stderr)
        return 1
    verb = "renewed" if result.renewed else "still valid"
    print(f"certificate {verb}: until {result.not_after:%Y-%m-%d} ({result.days_left} days)")
    return 0


def _close(args: argparse.Namespace) -> int:
    from terminal.provision.maintenance import close_day, service_running
    from terminal.selftest.clock import ntp_synchronised

    config, files = _context(args)
    running = service_running() if not args.direct else False
    outcome = close_day(
        files, config.device.id, int(time.time() * 1000), bool(ntp_synchronised()), running
    )
    print(outcome)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("maintain", help="jobs the systemd timers run")
    actions = parser.add_subparsers(dest="maintain_command", required=True, metavar="ACTION")
    renew = actions.add_parser(
        "renew-cert", help="renew the device certificate (same key) when it is close to expiry"
    )
    renew.add_argument("--days-before", type=int, default=30, help="renew inside this many days")
    renew.add_argument("--force", action="store_true", help="renew now whatever is left")
    renew.add_argument("--device", type=Path, help="device file (default: /etc/qr-terminal/...)")
    renew.set_defaults(handler=_renew)
    close = actions.add_parser("close-day", help="close the business day if it was left open")
    close.add_argument(
        "--if-open", action="store_true", help="(the default) do nothing when already closed"
    )
    close.add_argument(
        "--direct",
        action="store_true",
        help="write the close into the ledger even if systemd says the terminal runs",
    )
    close.add_argument("--device", type=Path, help="device file (default: /etc/qr-terminal/...)")
    close.set_defaults(handler=_close)
