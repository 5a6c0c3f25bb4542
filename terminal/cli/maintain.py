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
        from terminal.provision.journald import under_journald

        prefix = "<3>" if under_journald() else "error: "  # an error in the journal
        print(f"{prefix}certificate renewal failed: {error}", file=sys.stderr)
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


def _diagnostics(args: argparse.Namespace) -> int:
    import socket

    from terminal.config.loader import default_device_file
    from terminal.provision.diagnostics import collect, selftest_output
    from terminal.provision.layout import DEVICE_FILE, under

    if args.root is not None and not args.root.is_dir():
        print(f"error: --root {args.root}: no such directory", file=sys.stderr)
        return 2
    out = args.out or Path(
        f"qr-terminal-diagnostics-{socket.gethostname()}-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz"
    )
    if out.exists():
        print(f"error: {out} exists; choose another --out", file=sys.stderr)
        return 2
    if not out.parent.is_dir():
        print(f"error: {out.parent}: no such directory", file=sys.stderr)
        return 2
    device = args.device or (under(args.root, DEVICE_FILE) if args.root else default_device_file())
    selftest = [sys.executable, "-m", "terminal.cli", "selftest", "--json"]
    if args.root is not None:
        selftest += ["--root", str(args.root)]
    if device is not None:
        selftest += ["--device", str(device)]

    try:
        # A child process: as root it acts as the key's owner, as the service does.
        members = collect(out, device, args.root, lambda: selftest_output(selftest))
    except FileExistsError:
        print(f"error: {out} exists; choose another --out", file=sys.stderr)
        return 2
    print(f"{out}: {', '.join(members)}")
    print("no key, token or signed record is inside; send this file to support")
    return 0


def _update(args: argparse.Namespace) -> int:
    import os

    from terminal.provision.system import ProvisionError
    from terminal.provision.update import UpdateOptions, update

    if args.root is None and os.geteuid() != 0:
        print("error: updating changes /opt/qr-terminal: run it with sudo", file=sys.stderr)
        return 2
    if args.root is not None and not args.root.is_dir():
        print(f"error: --root {args.root}: no such directory", file=sys.stderr)
        return 2
    if not (args.source / "terminal").is_dir() or not (args.source / "systemd").is_dir():
        print(f"error: --source {args.source}: not a qr-terminal source tree", file=sys.stderr)
        return 2
    options = UpdateOptions(
        source=args.source.resolve(),
        root=args.root.resolve() if args.root else None,
        timeout_s=args.timeout,
        reuse_deps=args.reuse_deps,
        wheels=args.wheels,
    )
    try:
        return update(options)
    except ProvisionError as error:
        print(f"error: {error.en}; next: {error.next_en}", file=sys.stderr)
        return error.exit_code


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
    diagnostics = actions.add_parser(
        "diagnostics", help="one archive for support: logs, selftest, config, versions, hardware"
    )
    diagnostics.add_argument("--out", type=Path, help="archive to write (.tar.gz); must not exist")
    diagnostics.add_argument("--root", type=Path, help="a tree made by scripts/provision --root")
    diagnostics.add_argument("--device", type=Path, help="device file (default: /etc/...)")
    diagnostics.set_defaults(handler=_diagnostics)
    upgrade = actions.add_parser(
        "update", help="install a new release beside the running one; roll back if unhealthy"
    )
    upgrade.add_argument(
        "--source", type=Path, default=Path(__file__).resolve().parents[2], help="the new software"
    )
    upgrade.add_argument("--root", type=Path, help="a tree made by scripts/provision --root")
    upgrade.add_argument(
        "--timeout", type=float, default=180.0, help="seconds to become ready and pass selftest"
    )
    upgrade.add_argument("--reuse-deps", action="store_true", help="reuse this Python's packages")
    upgrade.add_argument("--wheels", type=Path, help="install from these wheels, offline")
    upgrade.set_defaults(handler=_update)
