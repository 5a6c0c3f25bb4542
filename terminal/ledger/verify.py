"""Independent verification of an exported journal: signatures, chain, counter, time, refunds.

Needs nothing but the export and the device certificate, like the receipt verifiers of fiscal
signing systems. Every problem is reported with its sequence number (0 when it has none).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from terminal.core.records import GENESIS_HASH, RecordError, chain_hash, record_from_json
from terminal.signing import JwsError, jws_verify, key_id


@dataclass(frozen=True)
class Problem:
    seq: int
    message: str

    def __str__(self) -> str:
        return f"seq {self.seq}: {self.message}"


def verify_export(lines: Iterable[str], public_key: ec.EllipticCurvePublicKey) -> list[Problem]:
    keys = {key_id(public_key): public_key}
    problems: list[Problem] = []
    expected_seq, prev_hash, device = 1, GENESIS_HASH, None
    last_synced_ms = None
    sales: dict[str, int] = {}
    refunded: dict[str, int] = {}
    seen_txn: set[str] = set()
    count = 0
    trailers: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        count += 1
        try:
            entry = json.loads(line)
            if "end" in entry:
                trailers.append(entry["end"])
                continue
            seq, jws = entry["seq"], entry["jws"]
        except (ValueError, KeyError, TypeError):
            problems.append(Problem(0, f"line {number} is not an export entry"))
            continue
        try:
            _, payload = jws_verify(jws, keys)
            record = record_from_json(payload)
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
        expected_seq, prev_hash = record.seq + 1, chain_hash(jws)
    if count == 0:
        problems.append(Problem(0, "the export holds no records"))
    problems += _check_trailer(trailers, keys, expected_seq - 1, prev_hash)
    return problems


def _check_trailer(trailers: list, keys: dict, last_seq: int, last_hash: str) -> list[Problem]:
    """The signed last line must name the last record: records cut off the end show here."""
    if len(trailers) != 1:
        return [
            Problem(
                last_seq, f"the export needs exactly one signed end line, found {len(trailers)}"
            )
        ]
    try:
        _, payload = jws_verify(trailers[0], keys)
        end = json.loads(payload)
    except (JwsError, ValueError, TypeError) as error:
        return [Problem(last_seq, f"end line invalid: {error}")]
    if end.get("last_seq") != last_seq or end.get("last_hash") != last_hash:
        return [
            Problem(
                last_seq,
                f"records missing or changed at the end: the device exported up to "
                f"seq {end.get('last_seq')}",
            )
        ]
    return []
