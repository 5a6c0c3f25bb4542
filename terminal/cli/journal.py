"""`qr-terminal journal export|verify`: the journal as JSON lines, checked by anyone."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _export(args: argparse.Namespace) -> int:
    import sqlite3

    from terminal.ledger.store import export_from_rows
    from terminal.signing import DeviceKey, KeyFileError

    # Every check before the output file is opened: a failed export leaves no empty file.
    if not args.key:
        print("error: --key DEVICE_KEY is needed to sign the export's end line", file=sys.stderr)
        return 2
    if not args.db.is_file():
        print(f"error: {args.db}: no such database", file=sys.stderr)
        return 2
    try:
        key = DeviceKey.load(args.key)
        # Read-only: export never writes, so it may run beside the terminal.
        db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
        rows = db.execute("SELECT seq, jws, hash FROM journal ORDER BY seq").fetchall()
    except KeyFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as error:
        print(f"error: {args.db}: {error}", file=sys.stderr)
        return 2
    device_id = args.device_id or _device_of(rows)
    lines = export_from_rows(rows, key, device_id, int(time.time() * 1000))
    if args.out:
        args.out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    else:
        for line in lines:
            sys.stdout.write(line + "\n")
    return 0


def _device_of(rows) -> str:
    from terminal.ledger.store import payload_record

    return payload_record(rows[0][1]).device_id if rows else ""


def _verify(args: argparse.Namespace) -> int:
    from cryptography import x509

    from terminal.ledger.verify import verify_export

    try:
        certificate = x509.load_pem_x509_certificate(args.cert.read_bytes())
        lines = args.export.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    problems = verify_export(lines, certificate.public_key())
    for problem in problems:
        print(problem)
    records = sum(1 for line in lines if line.startswith('{"seq"'))
    print(f"{records} records, {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


def register(commands: argparse._SubParsersAction) -> None:
    journal = commands.add_parser("journal", help="export or verify the signed journal")
    actions = journal.add_subparsers(dest="journal_command", required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write the journal as JSON lines")
    export.add_argument("--db", type=Path, required=True, help="the terminal's database")
    export.add_argument("--key", type=Path, help="device key, to sign the end line")
    export.add_argument("--device-id", help="device id (default: from the first record)")
    export.add_argument("--out", type=Path, help="file to write (default: stdout)")
    export.set_defaults(handler=_export)
    verify = actions.add_parser(
        "verify",
        help="check signatures, chain, counter, time order, refunds; exit 0 only if all hold",
    )
    verify.add_argument(
        "export", type=Path, metavar="EXPORT", help="the JSON-lines file journal export wrote"
    )
    verify.add_argument("--cert", type=Path, required=True, help="the device certificate (PEM)")
    verify.set_defaults(handler=_verify)
