"""`qr-terminal journal export|verify`: the journal as JSON lines, checked by anyone."""

from __future__ import annotations

import argparse
import datetime
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from terminal.cli import EXIT_BAD_INPUT, add_terminal_stopped, journal_read_error


def _fail(message: str) -> int:
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _export(args: argparse.Namespace) -> int:
    from terminal.ledger.errors import LedgerError
    from terminal.ledger.export import (
        ExportRefused,
        check_target,
        database_files,
        export_lines,
        write_new_file,
    )
    from terminal.ledger.reader import database_problem, open_journal
    from terminal.signing import DeviceKey, KeyFileError

    # Every check before the output is created: a failed export leaves no file behind.
    if not args.key:
        return _fail("--key DEVICE_KEY is needed to sign the export's end line")
    if args.out == Path("-"):
        args.out = None  # the usual spelling of stdout, not a file named "-"
    inputs = [*database_files(args.db), args.key]
    try:
        if args.out:
            check_target(args.out, inputs, force=args.force)
        if problem := database_problem(args.db):
            return _fail(f"--db {args.db}: {problem}")
        # First: a damaged database, or one this user cannot read here, is reported before all else.
        db = open_journal(args.db, stopped=args.terminal_stopped)
    except (LedgerError, ExportRefused) as error:
        return _fail(journal_read_error(error))
    try:
        key = DeviceKey.load(args.key)
    except KeyFileError as error:
        db.close()
        return _fail(str(error))
    try:
        journal_device = db.first_device()
        device_id = args.device_id or journal_device or ""
        if journal_device and device_id != journal_device:
            return _fail(f"--device-id {device_id} differs from the journal's {journal_device}")
        lines = export_lines(db.rows(), key, device_id, int(time.time() * 1000))
        if args.out:
            write_new_file(args.out, lines, inputs, force=args.force)
        else:
            _write_stdout(lines)
    except (LedgerError, ExportRefused) as error:
        return _fail(str(error))
    except OSError as error:
        where = args.out or "stdout"
        return _fail(f"{where}: cannot write the export ({error.strerror or error})")
    finally:
        db.close()
    return 0


def _write_stdout(lines: Iterator[str]) -> None:
    # Collected first: a key mismatch found at the last record must not leave half an export.
    text = "".join(line + "\n" for line in lines)
    sys.stdout.write(text)


def _read_lines(path: Path) -> list[str]:
    """The export's lines, refusing a line over MAX_LINE before reading it whole."""
    from terminal.files import require_regular
    from terminal.ledger.verify import MAX_LINE, ExportFormatError

    require_regular(path, "journal export")  # a fifo would hang the verifier
    lines = []
    with path.open("r", encoding="utf-8") as file:
        while line := file.readline(MAX_LINE + 2):
            if len(line.rstrip("\n")) > MAX_LINE:
                raise ExportFormatError(
                    f"line {len(lines) + 1} is over {MAX_LINE} characters; not an export"
                )
            lines.append(line.rstrip("\n"))
    return lines


def _verify(args: argparse.Namespace) -> int:
    from terminal.ledger.certs import (
        CertificateError,
        load_certificates,
        load_device_certificate,
        verify_signed_by,
    )
    from terminal.ledger.verify import ExportFormatError

    try:
        certificate = load_device_certificate(args.cert)
        if not args.ca:
            return _fail(
                "--ca CA_PEM is needed: the platform CA certificate that issued the device's "
                "(a certificate alone says nothing about who holds it)"
            )
        authorities = load_certificates(args.ca, "CA")
        lines = _read_lines(args.export)
        report = verify_signed_by(lines, certificate, authorities)
    except CertificateError as error:
        return _fail(str(error))
    except ExportFormatError as error:
        return _fail(f"{args.export}: {error}")
    except UnicodeDecodeError:
        return _fail(f"{args.export}: not UTF-8 text; not a journal export")
    except OSError as error:
        return _fail(f"{error.filename or args.export}: {error.strerror or error}")
    for problem in report.problems:
        print(problem)
    end = report.end
    if end:
        exported = datetime.datetime.fromtimestamp(end.get("exported_ms", 0) / 1000, datetime.UTC)
        print(
            f"export of device {end.get('device_id')}: seq {end.get('first_seq', '?')}.."
            f"{end.get('last_seq')}, exported {exported:%Y-%m-%d %H:%M:%S} UTC",
            file=sys.stderr,
        )
    print(f"{report.records} records, {len(report.problems)} problem(s)", file=sys.stderr)
    return 1 if report.problems else 0


def register(commands: argparse._SubParsersAction) -> None:
    journal = commands.add_parser("journal", help="export or verify the signed journal")
    actions = journal.add_subparsers(dest="journal_command", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export",
        help="write the journal as JSON lines",
        description="Reads the database without writing it, safe while the terminal runs "
        "(SQLite may create its empty -wal and -shm files beside it); from a read-only "
        "directory, e.g. a card from a stopped terminal, add --terminal-stopped.",
    )
    export.add_argument("--db", type=Path, required=True, help="the terminal's database")
    export.add_argument("--key", type=Path, help="device key, to sign the end line")
    export.add_argument("--device-id", help="device id (default: from the first record)")
    export.add_argument("--out", type=Path, help="file to write (default, or -: stdout)")
    export.add_argument("--force", action="store_true", help="replace an existing --out file")
    add_terminal_stopped(export)
    export.set_defaults(handler=_export)
    verify = actions.add_parser(
        "verify",
        help="check signatures, chain, counter, time order, refunds and who signed; "
        "exit 0 only if all hold",
    )
    verify.add_argument(
        "export", type=Path, metavar="EXPORT", help="the JSON-lines file journal export wrote"
    )
    verify.add_argument("--cert", type=Path, required=True, help="the device certificate (PEM)")
    verify.add_argument(
        "--ca", type=Path, help="the platform CA certificate(s) that issued it (PEM); required"
    )
    verify.set_defaults(handler=_verify)
