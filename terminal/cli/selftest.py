"""`qr-terminal selftest`: devices, key and certificate, platform, clock, disk, database and
outbox; Korean and English text or `--json`; exit 0 only when nothing failed."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from terminal.config.loader import default_device_file
from terminal.provision.layout import DEVICE_FILE, under


def _device_checks():
    """The hardware factory's check of every configured adapter (opened, asked, closed)."""
    from terminal.hw import factory

    return factory.check_all


def _drop_to_owner(state_dir: Path) -> None:
    """Run as root (`sudo qr-terminal selftest`), act as the user who owns the state directory:
    the device key opens only for its owner, and the check must see what the service sees."""
    if os.geteuid() != 0:
        return
    try:
        owner = state_dir.stat()
    except OSError:
        return
    if owner.st_uid == 0:
        return
    import pwd

    user = pwd.getpwuid(owner.st_uid)
    os.initgroups(user.pw_name, user.pw_gid)
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)


def _state_dir(device_file: Path | None) -> Path:
    """The state directory the configuration names (the default one if it does not load:
    the selftest then reports the configuration itself)."""
    from terminal.config.loader import ConfigError, load_config
    from terminal.provision.layout import STATE_DIR

    try:
        return Path(load_config(device_file=device_file).config.paths.state_dir)
    except ConfigError:
        return Path(STATE_DIR)


def _run(args: argparse.Namespace) -> int:
    from terminal.selftest.report import exit_code, to_json, to_text
    from terminal.selftest.runner import Inputs, run

    if args.root is not None and not args.root.is_dir():
        print(f"error: --root {args.root}: no such directory", file=sys.stderr)
        return 2
    device_file = args.device
    if device_file is None:
        device_file = under(args.root, DEVICE_FILE) if args.root else default_device_file()
    if device_file is not None and not device_file.is_file():
        print(f"error: {device_file}: no device file; provision the device first", file=sys.stderr)
        return 2
    if args.root is None:
        _drop_to_owner(_state_dir(device_file))
    device_checks = None if args.no_devices else _device_checks()
    held = device_checks is not None and args.root is None and not args.devices_anyway
    if held:
        from terminal.provision.maintenance import service_seen_running

        held = service_seen_running()
        device_checks = None if held else device_checks
    inputs = Inputs(
        device_file=device_file,
        env=os.environ,
        now_ms=int(time.time() * 1000),
        wall_ms=lambda: int(time.time() * 1000),
        root=args.root,
        offline=args.offline,
        device_checks=device_checks,
    )
    results = run(inputs)
    if held:
        # The camera cannot be opened twice: the running app has opened every device before it
        # reported READY=1, which is the check that counts while it runs.
        from terminal.selftest.report import SKIP, Result

        results.insert(
            1,
            Result(
                "devices",
                "장치",
                "devices",
                SKIP,
                "실행 중인 단말기가 사용 중 (준비 완료 = 장치 정상)",
                "held by the running terminal (its READY means they opened); "
                "--devices-anyway to open them too",
            ),
        )
    print(to_json(results) if args.json else to_text(results))
    return exit_code(results)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "selftest",
        help="check devices, key, certificate, platform, clock, disk, database and outbox",
        description="Checks everything a working terminal needs; exit code 0 only if no check "
        "failed (warnings do not fail). Run it as the terminal's user, or with sudo.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for tools")
    parser.add_argument(
        "--device", type=Path, help="device file (default: $QR_TERMINAL_DEVICE_FILE or /etc/...)"
    )
    parser.add_argument(
        "--root", type=Path, help="check a tree provisioned with scripts/provision --root DIR"
    )
    parser.add_argument(
        "--offline", action="store_true", help="do not contact the platform (no clock skew)"
    )
    parser.add_argument(
        "--no-devices", action="store_true", help="skip the hardware adapters' checks"
    )
    parser.add_argument(
        "--devices-anyway",
        action="store_true",
        help="open the devices even while the terminal service runs (a camera may be busy)",
    )
    parser.set_defaults(handler=_run)
