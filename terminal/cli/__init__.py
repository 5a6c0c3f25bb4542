"""The `qr-terminal` command line: builds the parser from one module per command group and runs
the chosen handler inside one error boundary."""

from __future__ import annotations

import argparse
import errno
import importlib
import json
import os
import sys
import traceback

from terminal import __version__

# One module per command group under terminal/cli/, each with `register(subparsers)`.
# Add a group by adding its module name here.
GROUPS = (
    "demo",
    "config",
    "codes",
    "scan",
    "journal",
    "selftest",
    "provision",
    "maintain",
    "sync",
    "hw",
    "platform",
    "run",
    "report",
)

EXIT_BAD_INPUT = 2

# What to do about an OSError, by errno: the message names the file and the fix.
_OS_ADVICE = {
    errno.ENOENT: "no such file or directory; check the path",
    errno.EISDIR: "is a directory; give a file",
    errno.ENOTDIR: "a part of the path is not a directory; check the path",
    errno.EACCES: "permission denied; run as a user who may read/write it, or fix its mode",
    errno.EPERM: "operation not permitted; check the file's owner and mode",
    errno.ELOOP: "too many symbolic links (or a symlink where a real file is required)",
    errno.ENOSPC: "no space left on the device; free some space and retry",
    errno.EROFS: "the file system is read-only; use a writable directory",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EEXIST: "already exists; choose another name or remove it first",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qr-terminal",
        description="QR payment terminal kit for 인천e음 merchants.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="on an error, print the traceback too")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in GROUPS:
        importlib.import_module(f"terminal.cli.{name}").register(commands)
    return parser


def describe_error(error: BaseException) -> str:
    """One line for the operator: what went wrong, with which input, and what to do."""
    if isinstance(error, OSError) and error.errno in _OS_ADVICE:
        where = error.filename if error.filename is not None else "(input)"
        return f"{where}: {_OS_ADVICE[error.errno]}"
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename is not None else ""
        return f"{where}{error.strerror or error}"
    if isinstance(error, UnicodeError):
        return f"input is not valid UTF-8 text ({error}); give a UTF-8 file"
    if isinstance(error, RecursionError):
        return "input is nested too deeply to read; it is not a file this command makes"
    if isinstance(error, MemoryError):
        return "input is too large to process in memory; give a smaller file"
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from complaining
        # again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:
        if not is_input_error(error):
            raise  # a bug, not bad input: the traceback is what a developer needs
        if args.debug:
            traceback.print_exc()
        print(f"error: {describe_error(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT


def is_input_error(error: BaseException) -> bool:
    """Errors that bad input, a bad file or a bad environment cause: ours (every exception
    class defined under terminal/), the OS's, undecodable or absurdly nested or huge input."""
    ours = type(error).__module__.startswith("terminal.")
    return ours or isinstance(
        error, (OSError, UnicodeError, RecursionError, MemoryError, json.JSONDecodeError)
    )


if __name__ == "__main__":
    sys.exit(main())


def whole_number(low: int, high: int):
    """An argparse type: a whole number in low..high, refused in one line otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}–{high}")
        return value

    return parse


TERMINAL_STOPPED = "--terminal-stopped"


def add_terminal_stopped(parser: argparse.ArgumentParser) -> None:
    """The option of every command that reads the journal (journal export, report)."""
    parser.add_argument(
        TERMINAL_STOPPED,
        action="store_true",
        help="no terminal writes this database (e.g. a card from a stopped terminal, mounted "
        "read-only): read its files as they are, creating nothing beside them; refused while "
        "a terminal holds the directory's run.lock. Needed when the directory is not writable",
    )


def journal_read_error(error: Exception) -> str:
    """One line for a refused journal read, naming this command line's option where it is the
    way out (the ledger's messages name no option: the app reads the journal too)."""
    from terminal.ledger.reader import StateDirectoryReadOnly, TerminalRunning, WalNotReplayable

    advice = {
        StateDirectoryReadOnly: f" ({TERMINAL_STOPPED})",
        TerminalRunning: f", or read without {TERMINAL_STOPPED}",
        WalNotReplayable: f" without {TERMINAL_STOPPED}",
    }
    more = next((text for kind, text in advice.items() if isinstance(error, kind)), "")
    return describe_error(error) + more
