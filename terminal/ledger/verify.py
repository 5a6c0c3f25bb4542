"""Independent verification of an exported journal: signatures, chain, counter, time, refunds,
and the signed end line with the exported range and time.

Needs nothing but the export and the device's public key (terminal/ledger/certs.py adds who
that key belongs to), like the receipt verifiers of fiscal signing systems. Every problem is
reported with its sequence number (0 when it has none). An input that is not an export at all
(a line that is not JSON of the export's shape, nested absurdly, or over MAX_LINE characters)
raises ExportFormatError instead: that is bad input, not a journal that fails to verify.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec

from terminal.core.records import GENESIS_HASH, Record, RecordError, chain_hash, record_from_json
from terminal.signing import JwsError, jws_verify, key_id

# A record's line is about 1 KB, a day close's a few KB; a line far beyond that is not ours.
MAX_LINE = 256 * 1024


class ExportFormatError(ValueError):
    """The input is not a journal export (names the line and what is wrong with it)."""


@dataclass(frozen=True)
class Problem:
    seq: int
    message: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.message}"


@dataclass
class ExportReport:
    """What a verification found, and what the signed end line says was exported."""

    problems: list[Problem] = field(default_factory=list)
    records: int = 0
    end: dict = field(default_factory=dict)  # device_id, first_seq, last_seq, exported_ms


def verify_export(lines: Iterable[str], public_key: ec.EllipticCurvePublicKey) -> list[Problem]:
    return inspect_export(lines, public_key).problems


def parse_line(number: int, line: str) -> tuple[int, str] | str:
    """(seq, jws) for a record line, the JWS text for the end line; ExportFormatError else."""
    if len(line) > MAX_LINE:
        raise ExportFormatError(f"line {number} is over {MAX_LINE} characters; not an export")
    try:
        entry = json.loads(line)
    except RecursionError:
        raise ExportFormatError(f"line {number} is nested too deeply; not an export") from None
    except ValueError as error:
        raise ExportFormatError(f"line {number} is not JSON ({error})") from None
    if isinstance(entry, dict) and set(entry) == {"end"} and isinstance(entry["end"], str):
        return entry["end"]
    if (
        isinstance(entry, dict)
        and set(entry) == {"seq", "jws"}
        and type(entry["seq"]) is int
        and isinstance(entry["jws"], str)
    ):
        return entry["seq"], entry["jws"]
    raise ExportFormatError(
        f'line {number} is not an export entry: expected {{"seq": integer, "jws": text}} '
        'or {"end": text}'
    )


def _open(jws: str, keys: dict) -> bytes:
    try:
        return jws_verify(jws, keys)[1]
    except RecursionError:  # a header nested absurdly deep, before any signature check
        raise JwsError("header nested too deeply") from None


def inspect_export(
    lines: Iterable[str],
    public_key: ec.EllipticCurvePublicKey,
    check_record: Callable[[Record], list[str]] | None = None,
) -> ExportReport:
    """Checks every line; `check_record` adds problems about who signed (certs.py)."""
    keys = {key_id(public_key): public_key}
    report = ExportReport()
    problems = report.problems
    expected_seq, prev_hash, device = 1, GENESIS_HASH, None
    last_synced_ms = None
    sales: dict[str, int] = {}
    refunded: dict[str, int] = {}
    seen_txn: set[str] = set()
    trailers: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        entry = parse_line(number, line)
        if isinstance(entry, str):
            trailers.append(entry)
            continue
        seq, jws = entry
        report.records += 1
        try:
            record = record_from_json(_open(jws, keys))
        except (JwsError, RecordError) as error:
            problems.append(Problem(seq, f"signature or record invalid: {error}"))
            expected_seq, prev_hash = expected_seq + 1, chain_hash(jws)
            continue
        if record.seq != seq:
            problems.append(
                Problem(seq, f"entry says seq {seq} but the signed record says {record.seq}")
            )
        if record.seq != expected_seq:
            problems.append(Problem(record.seq, f"counter jumps: expected seq {expected_seq}"))
        if record.prev_hash != prev_hash:
            problems.append(
                Problem(record.seq, "chain broken: prev_hash does not match the record before")
            )
        device = device or record.device_id
        if record.device_id != device:
            problems.append(
                Problem(record.seq, f"device {record.device_id} in a journal of {device}")
            )
        if record.txn_id in seen_txn:
            problems.append(Problem(record.seq, f"transaction {record.txn_id} appears twice"))
        seen_txn.add(record.txn_id)
        if record.clock_synced:
            # Records written with an untrusted clock are exempt: their times may be anything.
            if last_synced_ms is not None and record.time_ms < last_synced_ms:
                problems.append(Problem(record.seq, "time goes backwards on a synchronised clock"))
            last_synced_ms = max(record.time_ms, last_synced_ms or 0)
        if record.kind == "sale":
            sales[record.txn_id] = record.amount_won
        elif record.kind in ("refund", "void"):
            original = record.refs.get("original_txn", "")
            if original not in sales:
                problems.append(Problem(record.seq, f"{record.kind} of unknown sale {original}"))
            else:
                refunded[original] = refunded.get(original, 0) + record.amount_won
                if refunded[original] > sales[original]:
                    problems.append(Problem(record.seq, f"refunds exceed the sale {original}"))
        for message in check_record(record) if check_record else ():
            problems.append(Problem(record.seq, message))
        expected_seq, prev_hash = record.seq + 1, chain_hash(jws)
    if report.records == 0:
        problems.append(Problem(0, "the export holds no records"))
    report.end = _check_trailer(trailers, keys, expected_seq - 1, prev_hash, device, problems)
    return report


def _check_trailer(
    trailers: list[str],
    keys: dict,
    last_seq: int,
    last_hash: str,
    device: str | None,
    problems: list[Problem],
) -> dict:
    """The signed last line must name the exported range and the last record's hash: records
    cut off the end show here. Returns the end line's content (empty if unusable)."""
    if len(trailers) != 1:
        problems.append(
            Problem(
                last_seq, f"the export needs exactly one signed end line, found {len(trailers)}"
            )
        )
        return {}
    try:
        end = json.loads(_open(trailers[0], keys))
    except (JwsError, ValueError, RecursionError) as error:
        problems.append(Problem(last_seq, f"end line invalid: {error}"))
        return {}
    if not isinstance(end, dict):
        problems.append(Problem(last_seq, "end line invalid: not an object"))
        return {}
    if end.get("last_seq") != last_seq or end.get("last_hash") != last_hash:
        problems.append(
            Problem(
                last_seq,
                f"records missing or changed at the end: the device exported up to "
                f"seq {end.get('last_seq')}",
            )
        )
    if end.get("first_seq") not in (None, 1 if last_seq else 0):
        problems.append(Problem(0, f"end line says the export starts at seq {end['first_seq']}"))
    if device is not None and end.get("device_id") != device:
        problems.append(
            Problem(last_seq, f"end line names device {end.get('device_id')}, records {device}")
        )
    return end
