"""`qr-terminal sync status` (the link, the queue, parked records) and `qr-terminal sync once`
(drain the outbox now and report)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from terminal.cli import EXIT_BAD_INPUT

EXIT_FAILED = 1


def _load(args: argparse.Namespace):
    """(config, files), or prints one line and returns None."""
    from terminal.config.loader import default_device_file, load_config
    from terminal.sync.assembly import SyncFiles

    device_file = args.device if args.device is not None else default_device_file()
    if device_file is not None and not device_file.is_file():
        print(f"error: --device {device_file}: no such file; give the device file", file=sys.stderr)
        return None
    config = load_config(device_file=device_file).config
    return config, SyncFiles.from_config(config)


def _status(args: argparse.Namespace) -> int:
    from terminal.ledger.health import DatabaseUnreadable, check_database
    from terminal.sync.status import SyncStatus, load_status

    loaded = _load(args)
    if loaded is None:
        return EXIT_BAD_INPUT
    _, files = loaded
    now_ms = time.time_ns() // 1_000_000
    saved = load_status(files.status)
    status = saved or SyncStatus()
    reasons: dict[str, int] = {}
    try:
        health = check_database(files.state.database)
    except DatabaseUnreadable as error:
        print(f"note: {error}", file=sys.stderr)
    else:
        # The queue and parked counts come from the database itself: always current.
        status = dataclasses.replace(
            status,
            queue_depth=health.pending,
            oldest_pending_ms=health.oldest_pending_ms,
            parked=health.parked,
        )
        reasons = health.parked_reasons
    if args.json:
        print(json.dumps({**dataclasses.asdict(status), "parked_reasons": reasons}, indent=2))
        return 0
    if saved is None:
        print("sync: no status saved yet (the terminal's sync has not run here)")
    else:
        age = max(0, now_ms - files.status.stat().st_mtime_ns // 1_000_000) // 1000
        print(f"sync: status saved by the running terminal {age} s ago")
    for line in status.describe(now_ms):
        print(line)
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        print(f"  parked {count}× {reason}")
    return 0


def _once(args: argparse.Namespace) -> int:
    from terminal.app.errors import AppError
    from terminal.app.lock import StateLock
    from terminal.ledger.store import Ledger
    from terminal.signing import DeviceKey
    from terminal.sync.assembly import build_worker
    from terminal.sync.errors import SyncError

    loaded = _load(args)
    if loaded is None:
        return EXIT_BAD_INPUT
    config, files = loaded
    for what, path in (("platform CA", files.tls.ca), ("device certificate", files.tls.cert)):
        if not path.is_file():
            print(f"error: {path}: no {what}; provision the device first", file=sys.stderr)
            return EXIT_BAD_INPUT
    if not files.state.database.is_file():
        print(f"error: {files.state.database}: no database; nothing to send", file=sys.stderr)
        return EXIT_BAD_INPUT
    # One writer of the ledger: a running terminal sends its outbox itself, and a technician's
    # stopped-terminal read of the card must not see the journal change under it.
    try:
        lock = StateLock.take(files.state.database.parent)
    except AppError as error:
        print(f"error: {error}; a running terminal sends its own outbox", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        ledger = Ledger(files.state.database, DeviceKey.load(files.state.key), config.device.id)
        worker = build_worker(config, ledger, files=files)
        try:
            report = worker.run_once()
        except SyncError as error:
            print(f"sync: not finished: {error}", file=sys.stderr)
            print(f"sync: {error.message_ko}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            depth, _ = ledger.queue()
            worker.client.close()
            ledger.close()
    finally:
        lock.close()
    print(
        f"sent {report.sent} record(s) in {report.requests} request(s): "
        f"{report.accepted} accepted ({report.duplicate} already held), "
        f"{report.parked} parked; {depth} still queued"
    )
    for txn_id, reason in report.reasons.items():
        print(f"  parked {txn_id}: {reason}")
    if worker.status.current.problem:
        print(f"note: {worker.status.current.problem}")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "sync",
        help="the link to the platform: status, or drain the outbox now",
        description="Shows the sync's status, or sends every queued record now.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    status = actions.add_parser(
        "status",
        help="online/offline, queue depth, oldest record, last contact, parked records",
        description="Reads the running sync's saved status and the database (read-only).",
    )
    status.add_argument("--json", action="store_true", help="print JSON for tools")
    status.set_defaults(handler=_status)
    once = actions.add_parser(
        "once",
        help="drain the outbox now and report what the platform said",
        description="Sends every queued record over mTLS, settles the answers, and reports. "
        "Exit 1 if the platform could not be reached (the records stay queued).",
    )
    once.set_defaults(handler=_once)
    for sub in (status, once):
        sub.add_argument(
            "--device",
            type=Path,
            help="device file (default: $QR_TERMINAL_DEVICE_FILE or /etc/qr-terminal/device.toml)",
        )
