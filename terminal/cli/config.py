"""`qr-terminal config show|check|pin-hash`: the effective configuration, file validation, and
the stored hash of a manager or technician PIN."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

MAX_PIN_INPUT = 64  # bytes read from stdin: a PIN and its newline, with room to say "too long"


class PinInputError(ValueError):
    """The PIN given to `config pin-hash` cannot be used; the message names the input."""


class HashNotWritten(ValueError):
    """`config pin-hash` could not hand the hash over on stdout; the message says why."""


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


def _pin_from_stdin() -> str:
    if sys.stdin is None:  # started with stdin closed (`<&-`)
        raise PinInputError("stdin: closed; pipe the PIN's 4-8 digits, or run it in a terminal")
    try:
        data = _first_line(sys.stdin.buffer)
    except OSError as error:  # e.g. a stdin opened only for writing (`0>file`)
        reason = error.strerror or type(error).__name__
        raise PinInputError(
            f"stdin: cannot be read ({reason}); pipe the PIN's 4-8 digits"
        ) from None
    if len(data) > MAX_PIN_INPUT:
        raise PinInputError(f"stdin: over {MAX_PIN_INPUT} bytes is not a PIN; pipe 4-8 digits")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PinInputError("stdin: not UTF-8 text; pipe the PIN's 4-8 digits") from None
    pin = text.removesuffix("\n").removesuffix("\r")  # one line, as `echo` or a file ends it
    if not pin:
        raise PinInputError("stdin: no PIN given; pipe 4-8 digits, or run it in a terminal")
    return pin


def _first_line(stream) -> bytes:
    """What stdin holds up to its first newline, its end or MAX_PIN_INPUT + 1 bytes, with what
    came along with that newline: `(echo 1234; sleep 60) | ...` answers at the newline, not
    at the end of stdin, and a second line sent with the first is still seen and refused."""
    data = b""
    while b"\n" not in data and len(data) <= MAX_PIN_INPUT:
        chunk = stream.read1(MAX_PIN_INPUT + 1 - len(data))  # what is there: waits only if none
        if not chunk:
            break
        data += chunk
    return data


def _pin_from_terminal() -> str:
    import getpass

    try:
        pin = getpass.getpass("PIN (4-8 digits): ")
        again = getpass.getpass("PIN again: ")
    except EOFError:
        raise PinInputError("PIN prompt: nothing typed; type the PIN's 4-8 digits") from None
    except UnicodeDecodeError:
        raise PinInputError("PIN prompt: not UTF-8 text; type the PIN's 4-8 digits") from None
    if pin != again:
        raise PinInputError("PIN prompt: the two PINs differ; run it again")
    return pin


def _config_pin_hash(args: argparse.Namespace) -> int:
    from terminal.config.pins import make_pin_hash
    from terminal.core.pin import BadPin

    if args.pin:  # never echoed: it is a secret, and already in the shell's history
        raise PinInputError(
            "config pin-hash: takes no PIN argument (it would stay in the shell history); "
            "type it at the prompt or pipe it in"
        )
    if sys.stdout is None:  # started with stdout closed (`>&-`): the hash would go nowhere
        raise HashNotWritten("stdout: closed; run it with stdout to a terminal or a file")
    interactive = sys.stdin is not None and sys.stdin.isatty()
    pin = _pin_from_terminal() if interactive else _pin_from_stdin()
    try:
        stored = make_pin_hash(pin)
    except BadPin as error:
        source = "PIN prompt" if interactive else "stdin"
        raise PinInputError(f"{source}: {error}") from None
    _write_hash(stored)
    if interactive:
        print(
            'put it in the device file\'s [counter] section as manager_pin_hash = "..." '
            "(or technician_pin_hash), then run `qr-terminal config check FILE`",
            file=sys.stderr,
        )
    return 0


def _write_hash(stored: str) -> None:
    try:
        sys.stdout.write(stored + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # the reader went away (`| head`): main stops quietly
    except OSError as error:  # e.g. stdout on a full disk or /dev/full
        # Drop what is buffered, so that exiting does not fail to flush it a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        reason = error.strerror or type(error).__name__
        raise HashNotWritten(f"stdout: the hash was not written ({reason})") from None


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
    pin_hash = config_commands.add_parser(
        "pin-hash",
        help="print the salted hash of a PIN for [counter] manager_pin_hash/technician_pin_hash",
        description="Reads a 4-8 digit PIN (typed twice without echo, or one line on stdin) "
        "and prints its scrypt hash for the device file. Nothing is written.",
    )
    # Caught to refuse it without echoing it (argparse would print the PIN back with usage).
    pin_hash.add_argument("pin", nargs="*", help=argparse.SUPPRESS)
    pin_hash.set_defaults(handler=_config_pin_hash)
