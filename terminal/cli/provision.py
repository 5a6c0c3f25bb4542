"""`qr-terminal provision`: the Python half of scripts/provision (checks, key, enrollment,
software, configuration, services, selftest); `--dry-run` prints the plan."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _bad(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def _validate(args: argparse.Namespace) -> str | None:
    """Why these arguments cannot work (checked before anything is touched), or None."""
    from cryptography import x509

    from terminal.provision.enroll_step import CODE, normalise_code

    if args.root is None and not args.dry_run and os.geteuid() != 0:
        return "provisioning changes the system: run it with sudo (or use --root DIR / --dry-run)"
    if args.root is not None and not args.root.is_dir():
        return f"--root {args.root}: no such directory; create it first"
    if args.platform is not None and not args.platform.startswith("https://"):
        return f"--platform {args.platform}: must be an https:// URL (the platform is mTLS only)"
    if args.platform_ca is not None:
        try:
            x509.load_pem_x509_certificates(args.platform_ca.read_bytes())
        except (OSError, ValueError) as error:
            return f"--platform-ca {args.platform_ca}: not a PEM CA certificate ({error})"
    if args.code is not None and not CODE.match(normalise_code(args.code)):
        return f"--code {args.code!r}: an enrollment code looks like PPPP-SSSS-SSSS"
    if not (args.source / "terminal").is_dir() or not (args.source / "systemd").is_dir():
        return f"--source {args.source}: not a qr-terminal source tree (terminal/, systemd/)"
    if args.wheels is not None and not args.wheels.is_dir():
        return f"--wheels {args.wheels}: no such directory"
    return None


def _run(args: argparse.Namespace) -> int:
    from terminal.provision.plan import plan
    from terminal.provision.steps import Options, provision

    problem = _validate(args)
    if problem:
        return _bad(problem)
    options = Options(
        platform=args.platform,
        platform_ca=args.platform_ca,
        code=args.code,
        root=args.root.resolve() if args.root else None,
        source=args.source.resolve(),
        now_ms=int(time.time() * 1000),
        reenroll=args.reenroll,
        rekey=args.rekey,
        reuse_deps=args.reuse_deps,
        wheels=args.wheels,
        serial=args.serial,
        prompt=input if sys.stdin.isatty() else None,
    )
    return plan(options) if args.dry_run else provision(options)


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "provision",
        help="make this Pi a terminal: key, enrollment, software, services, selftest",
        description="Provisions this device (run through scripts/provision). Running it again "
        "changes nothing unless something differs; the key and the ledger are never replaced "
        "unless --rekey says so.",
    )
    parser.add_argument(
        "--platform", help="platform URL, e.g. https://platform.example/ (first run)"
    )
    parser.add_argument(
        "--platform-ca", type=Path, help="the platform's CA certificate (PEM) to trust (first run)"
    )
    parser.add_argument("--code", help="one-time enrollment code PPPP-SSSS-SSSS (else asked)")
    parser.add_argument(
        "--reenroll",
        action="store_true",
        help="enroll again with a new code, keeping the key and the ledger (another merchant, "
        "an expired or revoked certificate)",
    )
    parser.add_argument(
        "--rekey",
        action="store_true",
        help="make a new device key and enroll it with a new code; the old key, certificate and "
        "ledger are moved to retired-<time>/ (export the journal first): for a leaked key",
    )
    parser.add_argument(
        "--root", type=Path, help="provision into this directory tree; useradd/systemctl printed"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument(
        "--source", type=Path, default=REPO, help="the software to install (default: this tree)"
    )
    parser.add_argument(
        "--reuse-deps",
        action="store_true",
        help="the release uses this Python's installed packages instead of pip (development)",
    )
    parser.add_argument("--wheels", type=Path, help="install from these wheels, offline")
    parser.add_argument("--serial", help="device serial for the CSR (default: the Pi's serial)")
    parser.set_defaults(handler=_run)
