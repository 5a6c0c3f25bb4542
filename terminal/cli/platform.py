"""`qr-terminal platform serve|code|ca-path`: the platform simulator (terminal/sim/platform)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from terminal.cli import EXIT_BAD_INPUT


def _fail(message: str) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_BAD_INPUT


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "qr-terminal" / "platform"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535)")
    return value


def _state_problem(state_dir: Path) -> str | None:
    """Why the state directory cannot be used, checked before anything is created."""
    if state_dir.exists() and not state_dir.is_dir():
        return f"--state-dir {state_dir}: is a file; give a directory"
    existing = next((p for p in (state_dir, *state_dir.parents) if p.exists()), None)
    if existing is not None and not os.access(existing, os.W_OK):
        return f"--state-dir {state_dir}: {existing} is not writable; choose another directory"
    return None


def _serve(args: argparse.Namespace) -> int:
    from terminal.sim.platform.faults import Faults, FaultSpecError
    from terminal.sim.platform.server import serve_forever

    faults = Faults(seed=args.seed)
    if args.faults:
        try:
            faults.load_json(args.faults)
        except FaultSpecError as error:
            return _fail(f"--faults: {error}")
    if problem := _state_problem(args.state_dir):
        return _fail(problem)

    def announce(runtime) -> None:
        print(f"platform simulator  https://{runtime.host}:{runtime.port}  (mutual TLS)")
        print(f"admin (loopback)    http://127.0.0.1:{runtime.admin_port}")
        print(f"CA certificate      {runtime.platform.pki.ca_path}")
        print(f"state               {args.state_dir}")
        print("Ctrl-C stops it.", flush=True)

    asyncio.run(
        serve_forever(args.state_dir, args.host, args.port, args.admin_port, faults, announce)
    )
    return 0


def _code(args: argparse.Namespace) -> int:
    from terminal.sim.platform.enrollment import new_code
    from terminal.sim.platform.state import Platform

    if problem := _state_problem(args.state_dir):
        return _fail(problem)
    platform = Platform.open(args.state_dir)
    try:
        code, expires_ms = new_code(platform)
    finally:
        platform.close()
    print(code)
    print(f"single use, valid 10 minutes (until Unix ms {expires_ms})", file=sys.stderr)
    return 0


def _ca_path(args: argparse.Namespace) -> int:
    from terminal.sim.platform.clock import Clock
    from terminal.sim.platform.pki import Pki

    if problem := _state_problem(args.state_dir):
        return _fail(problem)
    print(Pki.open(args.state_dir, Clock().now_datetime()).ca_path)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("platform", help="run the platform simulator (HTTPS + mTLS)")
    actions = group.add_subparsers(dest="platform_command", required=True, metavar="ACTION")
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument(
        "--state-dir",
        type=Path,
        default=default_state_dir(),
        help="where the simulator keeps its CA, keys and database "
        "(default: $XDG_STATE_HOME/qr-terminal/platform)",
    )

    serve = actions.add_parser("serve", parents=[state], help="serve until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8765, help="HTTPS port (8765; 0: any free)")
    serve.add_argument(
        "--admin-port", type=_port, default=8766, help="loopback admin HTTP port (8766)"
    )
    serve.add_argument(
        "--faults",
        metavar="JSON",
        help='faults from the start, e.g. \'[{"kind": "drop_reply", "rate": 0.1}]\' '
        "(docs/protocol.md lists them)",
    )
    serve.add_argument("--seed", type=int, default=0, help="seed of the fault draws (0)")
    serve.set_defaults(handler=_serve)

    code = actions.add_parser("code", parents=[state], help="print a new one-time enrollment code")
    code.set_defaults(handler=_code)

    ca = actions.add_parser("ca-path", parents=[state], help="print the CA certificate's path")
    ca.set_defaults(handler=_ca_path)
