"""`qr-terminal report --day DATE [--csv]`: one day's transactions for an accountant, one row
each, in columns that add up to the Z report's figures (the same functions make both)."""

from __future__ import annotations

import argparse
import csv
import datetime
import re
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from terminal.cli import EXIT_BAD_INPUT, add_terminal_stopped, journal_read_error

COLUMNS = (
    "seq", "txn_id", "time", "kind", "method", "offline", "list_won", "discount_won",
    "amount_won", "supply_won", "vat_won", "city_won", "district_won", "merchant_won",
    "cashback_won", "original_txn", "token_id", "charge_id",
)  # fmt: skip


def day_entries(records, day: datetime.date, zone: ZoneInfo):
    """The day's sales, refunds and voids (closes are not transactions), oldest first."""
    from terminal.core.session.report import entry_from_record

    return [
        entry_from_record(record)
        for record in records
        if record.kind != "close"
        and datetime.datetime.fromtimestamp(record.time_ms / 1000, zone).date() == day
    ]


def row(entry, zone: ZoneInfo) -> dict[str, object]:
    """Signed so that each column sums to the day: a refund's amount, 선할인 and VAT count
    against the day (its cashback is already negative in the record)."""
    from terminal.core.session.report import signed_amount, split_vat

    sign = 1 if entry.is_payment else -1
    amount = signed_amount(entry)
    supply, vat = split_vat(amount)
    moment = datetime.datetime.fromtimestamp(entry.time_ms / 1000, zone)
    return {
        "seq": entry.seq,
        "txn_id": entry.txn_id,
        "time": moment.isoformat(timespec="seconds"),
        "kind": entry.kind,
        "method": entry.method,
        "offline": int(entry.offline),
        "list_won": sign * entry.gross_won,
        "discount_won": sign * entry.discount_won,
        "amount_won": amount,
        "supply_won": supply,
        "vat_won": vat,
        "city_won": entry.city_won,
        "district_won": entry.district_won,
        "merchant_won": entry.merchant_won,
        "cashback_won": entry.cashback_won,
        "original_txn": entry.original_txn,
        "token_id": entry.token_id,
        "charge_id": entry.charge_id,
    }


def _report(args: argparse.Namespace) -> int:
    from terminal.config.loader import default_device_file, load_config
    from terminal.core.session.report import z_report
    from terminal.ledger.errors import LedgerError
    from terminal.ledger.reader import database_problem, read_records
    from terminal.provision.layout import StateFiles
    from terminal.ui.views_manage import report_lines

    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", args.day):
            raise ValueError(args.day)  # fromisoformat also takes 20261118 and 2026-W47-1
        day = datetime.date.fromisoformat(args.day)
    except ValueError:
        print(f"error: --day {args.day!r}: give a date as YYYY-MM-DD", file=sys.stderr)
        return EXIT_BAD_INPUT
    device_file = args.device if args.device is not None else default_device_file()
    config = load_config(device_file=device_file).config
    database = args.db or StateFiles.from_paths(config.paths).database
    if problem := database_problem(database):
        print(f"error: --db {database}: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    zone = ZoneInfo(config.locale.timezone)
    try:
        # Chained: a record edited on the card would otherwise be summed without a word.
        records = read_records(database, stopped=args.terminal_stopped, chained=True)
    except LedgerError as error:
        print(f"error: {journal_read_error(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    entries = day_entries(records, day, zone)
    if args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for entry in entries:
            writer.writerow(row(entry, zone))
        return 0
    # The journal's own device: a card read on a technician's laptop is not this machine's.
    device = records[0].device_id if records else config.device.id
    shop = [config.merchant.name_ko] if device == config.device.id else []
    print(" · ".join([*shop, device, day.isoformat()]))
    for label, value in report_lines(z_report(entries)):
        print(f"{label.strip()}: {value}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "report",
        help="one day's transactions: Z report figures, or --csv one row per transaction",
        description="Reads the terminal's journal without writing it, safe while it runs (SQLite "
        "may create its empty -wal and -shm files beside the database). The CSV's amount, 선할인, "
        "supply, VAT and cashback columns each add up to the Z report.",
    )
    parser.add_argument("--day", required=True, help="the day, YYYY-MM-DD, in locale.timezone")
    parser.add_argument("--csv", action="store_true", help="CSV, one row per transaction")
    parser.add_argument("--db", type=Path, help="the database (default: from paths)")
    parser.add_argument(
        "--device",
        type=Path,
        help="device file (default: $QR_TERMINAL_DEVICE_FILE or /etc/qr-terminal/device.toml)",
    )
    add_terminal_stopped(parser)
    parser.set_defaults(handler=_report)
