"""The Ledger: records each sale, refund, void and day close in one transaction, signed and
chained, with its outbox entry, its seen token and the offline totals. A caller may report a
sale approved only after the method returned: by then the commit (and its fsync) is done."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from terminal.core.benefits import Benefits, refund_benefits
from terminal.core.ids import uuid7
from terminal.core.offline import ClockState, Unsynced
from terminal.core.records import (
    GENESIS_HASH,
    Record,
    canonical_json,
    chain_hash,
    record_from_json,
)
from terminal.ledger.errors import (
    LedgerError,
    LedgerFull,
    LedgerReadOnly,
    RefundRefused,
    TokenReplayed,
)
from terminal.ledger.schema import connect
from terminal.signing import DeviceKey, b64url_decode


@dataclass(frozen=True)
class Recorded:
    record: Record
    jws: str


class Ledger:
    """The only writer of the database. One instance per process; not thread-safe."""

    def __init__(self, path: Path, key: DeviceKey, device_id: str):
        self.path, self.key, self.device_id = Path(path), key, device_id
        self.db = connect(self.path)
        self._last: tuple[int, str] | None = None  # (seq, hash) of the newest record
        self.reclaim_stuck()

    def close(self) -> None:
        self.db.close()

    # --- writing ---------------------------------------------------------------------------

    def _append(
        self,
        make: Callable[[int, str], Record],
        *,
        offline: bool,
        token_id: str | None = None,
        reads: bool = False,
    ) -> Recorded:
        """Builds, signs and stores one record in one transaction.

        A record whose making reads the journal (`reads`: refunds, day close) gets an IMMEDIATE
        transaction around the reads and the INSERT. A sale reads nothing: its single INSERT is
        a transaction by itself, which saves two round trips on the path every sale takes.
        """
        if reads:
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise _translate(error) from None
        try:
            seq, prev_hash = self._head()
            record: Record = make(seq, prev_hash)
            jws = self.key.jws(record.canonical())
            link = chain_hash(jws)
            original = record.refs.get("original_txn")
            # One row is the record, its outbox entry and its seen token (schema.py).
            self.db.execute(
                "INSERT INTO journal (seq, txn_id, kind, method, amount_won, original_txn, "
                "time_ms, offline, token_id, hash, jws) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    record.txn_id,
                    record.kind,
                    record.method,
                    record.amount_won,
                    original,
                    record.time_ms,
                    int(offline),
                    token_id,
                    link,
                    jws,
                ),
            )
            if reads:
                self.db.execute("COMMIT")
            self._last = (seq, link)
        except sqlite3.IntegrityError as error:
            self._rollback()
            if "token_id" in str(error):
                raise TokenReplayed(f"token {token_id} was already used on this terminal") from None
            raise LedgerError(f"integrity: {error}") from None
        except sqlite3.OperationalError as error:
            self._rollback()
            raise _translate(error) from None
        except BaseException:
            self._rollback()
            raise
        return Recorded(record, jws)

    def _head(self) -> tuple[int, str]:
        """The next seq and the hash it must carry. Cached: this is the only writer."""
        if self._last is None:
            row = self.db.execute(
                "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            self._last = (row[0], row[1]) if row else (0, GENESIS_HASH)
        return self._last[0] + 1, self._last[1]

    def _rollback(self) -> None:
        self._last = None  # re-read the head: never trust a cache across a failed write
        # SQLite may already have rolled back by itself (after SQLITE_FULL, for one).
        if self.db.in_transaction:
            with contextlib.suppress(sqlite3.OperationalError):
                self.db.execute("ROLLBACK")

    def _new_record(self, seq, prev_hash, clock: ClockState, **fields) -> Record:
        return Record(
            txn_id=str(uuid7(clock.now_ms, os.urandom(10))),
            device_id=self.device_id,
            seq=seq,
            prev_hash=prev_hash,
            time_ms=clock.now_ms,
            clock_synced=clock.trusted,
            **fields,
        )

    def record_sale(
        self,
        *,
        amount_won: int,
        method: str,
        benefits: Benefits,
        clock: ClockState,
        offline: bool,
        charge_id: str | None = None,
        token_id: str | None = None,
    ) -> Recorded:
        refs = {k: v for k, v in (("charge_id", charge_id), ("token_id", token_id)) if v}
        return self._append(
            lambda seq, prev: self._new_record(
                seq,
                prev,
                clock,
                kind="sale",
                method=method,
                amount_won=amount_won,
                benefits=benefits.as_dict(),
                refs=refs,
                offline=offline,
            ),
            offline=offline,
            token_id=token_id if offline else None,
        )

    def record_refund(
        self, *, original_txn: str, amount_won: int, clock: ClockState, void: bool = False
    ) -> Recorded:
        def make(seq, prev):
            original, refunded = self._refundable(original_txn)
            amount = original.amount_won - refunded if void else amount_won
            if amount <= 0 or refunded + amount > original.amount_won:
                raise RefundRefused(
                    f"{amount:,}원 exceeds what is left of {original_txn} "
                    f"({original.amount_won - refunded:,}원 of {original.amount_won:,}원)"
                )
            sale = Benefits(**{k: v for k, v in original.benefits.items() if k != "total_won"})
            reversed_benefits = refund_benefits(original.amount_won, sale, refunded, amount)
            return self._new_record(
                seq,
                prev,
                clock,
                kind="void" if void else "refund",
                method=original.method,
                amount_won=amount,
                benefits=reversed_benefits.as_dict(),
                refs={"original_txn": original_txn},
                offline=False,
            )

        return self._append(make, offline=False, reads=True)

    def _refundable(self, original_txn: str) -> tuple[Record, int]:
        row = self.db.execute(
            "SELECT jws, kind FROM journal WHERE txn_id = ?", (original_txn,)
        ).fetchone()
        if row is None or row[1] != "sale":
            raise RefundRefused(f"no sale {original_txn} in this terminal's journal")
        refunded = self.db.execute(
            "SELECT COALESCE(SUM(amount_won), 0) FROM journal WHERE original_txn = ?",
            (original_txn,),
        ).fetchone()[0]
        return payload_record(row[0]), refunded

    def record_close(self, *, clock: ClockState) -> Recorded:
        """A day close: totals by kind and method since the previous close, and the seq range."""

        def make(seq, prev):
            last_close = self.db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM journal WHERE kind = 'close'"
            ).fetchone()[0]
            totals: dict[str, dict[str, int]] = {}
            benefits = 0
            for (jws,) in self.db.execute(
                "SELECT jws FROM journal WHERE seq > ? ORDER BY seq", (last_close,)
            ):
                record = payload_record(jws)
                key = f"{record.kind}_{record.method}"
                entry = totals.setdefault(key, {"count": 0, "amount_won": 0})
                entry["count"] += 1
                entry["amount_won"] += record.amount_won
                benefits += record.benefits.get("total_won", 0)
            close = {
                "from_seq": last_close + 1,
                "to_seq": seq - 1,
                "totals": totals,
                "benefits_won": benefits,
            }
            return self._new_record(
                seq,
                prev,
                clock,
                kind="close",
                method=None,
                amount_won=0,
                benefits={},
                refs={},
                offline=False,
                close=close,
            )

        return self._append(make, offline=False, reads=True)

    def note_trusted_time(self, now_ms: int) -> None:
        """Remembers a time known to be right (after NTP sync), for the next boot's clock check."""
        self.db.execute(
            "INSERT INTO meta VALUES ('last_trusted_ms', ?) ON CONFLICT(key) DO UPDATE SET "
            "value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
            (str(now_ms),),
        )

    # --- outbox (sync asks the ledger to change states: one writer) -------------------------

    def reclaim_stuck(self) -> int:
        """Rows left 'sending' by a crash go back to 'pending'; returns how many."""
        return self.db.execute(
            "UPDATE journal SET state = 'pending' WHERE state = 'sending'"
        ).rowcount

    def claim(self, limit: int, now_ms: int) -> list[tuple[str, str]]:
        """Marks up to `limit` oldest pending rows 'sending'; returns (txn_id, jws) in seq order."""
        self.db.execute("BEGIN IMMEDIATE")
        rows = self.db.execute(
            "SELECT txn_id, jws FROM journal WHERE state = 'pending' ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        self.db.executemany(
            "UPDATE journal SET state = 'sending', locked_ms = ?, attempts = attempts + 1 "
            "WHERE txn_id = ?",
            [(now_ms, txn) for txn, _ in rows],
        )
        self.db.execute("COMMIT")
        return rows

    def settle(self, accepted: list[str], rejected: dict[str, str], retry: list[str]) -> None:
        """Applies the platform's answers in one transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        for txn_id in accepted:
            self.db.execute(
                "UPDATE journal SET state = 'accepted', reason = NULL "
                "WHERE txn_id = ? AND state = 'sending'",
                (txn_id,),
            )
        for txn_id, reason in rejected.items():
            # Kept with its reason for the operator; never deleted.
            self.db.execute(
                "UPDATE journal SET state = 'rejected', reason = ? WHERE txn_id = ?",
                (reason, txn_id),
            )
        for txn_id in retry:
            self.db.execute(
                "UPDATE journal SET state = 'pending' WHERE txn_id = ? AND state = 'sending'",
                (txn_id,),
            )
        self.db.execute("COMMIT")

    # --- reading ---------------------------------------------------------------------------

    def unsynced(self) -> Unsynced:
        """Offline sales the platform has not accepted: derived from the outbox rows that each
        sale's own transaction wrote, so the totals can never drift from the records. Rejected
        ones still count: that money is in doubt until an operator resolves it."""
        total, count, oldest = self.db.execute(
            "SELECT COALESCE(SUM(amount_won), 0), COUNT(*), MIN(time_ms) FROM journal "
            "WHERE state != 'accepted' AND offline = 1"
        ).fetchone()
        return Unsynced(total, count, oldest)

    def queue(self) -> tuple[int, int | None]:
        """Outbox depth and the creation time of the oldest pending row (for the status bar)."""
        return self.db.execute(
            "SELECT COUNT(*), MIN(time_ms) FROM journal WHERE state IN ('pending', 'sending')"
        ).fetchone()

    def last_trusted_ms(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'last_trusted_ms'").fetchone()
        return int(row[0]) if row else 0

    def seen(self, token_id: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM journal WHERE token_id = ?", (token_id,)).fetchone()
            is not None
        )

    def export_lines(self, now_ms: int) -> Iterator[str]:
        rows = self.db.execute("SELECT seq, jws, hash FROM journal ORDER BY seq")
        return export_from_rows(rows, self.key, self.device_id, now_ms)


def export_from_rows(rows, key: DeviceKey, device_id: str, now_ms: int) -> Iterator[str]:
    """JSON lines: one per record, then an end line signed by the device naming the last
    record, so that cutting records off the end of an export is detected too."""
    last_seq, last_hash = 0, GENESIS_HASH
    for seq, jws, record_hash in rows:
        yield json.dumps({"seq": seq, "jws": jws})
        last_seq, last_hash = seq, record_hash
    end = {
        "device_id": device_id,
        "last_seq": last_seq,
        "last_hash": last_hash,
        "exported_ms": now_ms,
    }
    yield json.dumps({"end": key.jws(canonical_json(end))})


def payload_record(jws: str) -> Record:
    """The record inside one of our own JWS texts (signature already trusted: we wrote it)."""
    return record_from_json(b64url_decode(jws.split(".")[1]))


def _translate(error: sqlite3.OperationalError) -> LedgerError:
    message = str(error)
    if "full" in message:
        return LedgerFull(f"disk full: {message}")
    if "readonly" in message or "read-only" in message:
        return LedgerReadOnly(f"cannot write: {message}")
    return LedgerError(message)
