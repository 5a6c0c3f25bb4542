"""The Ledger: records each sale, refund, void and day close in one transaction, signed and
chained, with its outbox entry, its seen token and the offline totals. A caller may report a
sale approved only after the method returned: by then the commit (and its fsync) is done.

Threads (the rule, enforced):
- One Ledger per process, shared by the app's session thread and the sync thread. It holds one
  SQLite connection (opened with check_same_thread=False) and one lock; every public method
  holds the lock for its whole run, so the two threads' calls are serialized and no caller ever
  sees another's open transaction.
- The scan worker thread must never call it: it posts scan events to the session, which decides
  and records. A call from a thread named "scan-worker" (terminal/scan/worker.py), or from a
  thread given to `forbid_thread`, raises LedgerMisuse at once, before touching anything.
- Sync calls claim / settle / reclaim_stuck / queue / unsynced; their names and meaning are the
  same as before this rule existed. What changed: they raise LedgerError subclasses, never raw
  sqlite3 errors (`error.retry` is True for LedgerBusy), and after an error settle and
  reclaim_stuck may simply be called again (they are idempotent); a failed claim claimed nothing.

Transactions: every write goes through `_transaction` (terminal/ledger/connection.py, which also
holds the lock and the thread check): BEGIN IMMEDIATE, the work, COMMIT, or
ROLLBACK on any failure, a failed COMMIT included. It refuses to start inside a transaction it
did not open (LedgerMisuse): a sale can never silently join someone else's uncommitted work.
Raw sqlite3 errors leave as the ledger's own types (errors.translate, by SQLite result code).

Keys: opening refuses (KeyMismatch) a journal whose records another key signed. Replacing a key
means a new database and a new certificate, never one chain signed by two keys.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from terminal.core.benefits import Benefits, Price, refund_benefits, refund_price
from terminal.core.ids import uuid7
from terminal.core.offline import ClockState, Unsynced
from terminal.core.records import GENESIS_HASH, Record, chain_hash
from terminal.ledger.connection import SCAN_WORKER_THREAD, SerializedDatabase, serialized
from terminal.ledger.errors import LedgerConstraint, RefundRefused, TokenReplayed, translate
from terminal.ledger.export import export_lines, signer_mismatch
from terminal.ledger.reader import journal_rows, payload_record
from terminal.signing import DeviceKey

__all__ = ["SCAN_WORKER_THREAD", "Ledger", "Recorded", "payload_record"]


@dataclass(frozen=True)
class Recorded:
    record: Record
    jws: str


class Ledger(SerializedDatabase):
    """The only writer of the database. One per process; see the module docstring for threads."""

    def __init__(self, path: Path, key: DeviceKey, device_id: str):
        self.key, self.device_id = key, device_id
        self._last: tuple[int, str] | None = None  # (seq, hash) of the newest record
        self.config_version = 0  # carried by every record; see use_config_version
        self._data_version: int | None = None  # PRAGMA data_version when the head was cached
        super().__init__(path)
        try:
            self._check_signer()
            self.reclaim_stuck()
        except BaseException:
            self.close()
            raise

    def _forget(self) -> None:
        self._last = None  # re-read the head after a failed write

    def _check_signer(self) -> None:
        """The first and the newest record must be signed by our key (see KeyMismatch)."""
        for order in ("ASC", "DESC"):
            row = self._read(f"SELECT seq, jws FROM journal ORDER BY seq {order} LIMIT 1")
            if row:
                mismatch = signer_mismatch(row[1], self.key, f"{self.path} record seq {row[0]}")
                if mismatch:
                    raise mismatch

    # --- records ---------------------------------------------------------------------------

    def _append(
        self, make: Callable[[int, str], Record], *, offline: bool, token_id: str | None = None
    ) -> Recorded:
        """Builds, signs and stores one record (its outbox entry and seen token are the same
        row, schema.py) in one transaction: the head, any reads `make` does, and the INSERT."""
        made: list[Record] = []

        def landed() -> bool:
            row = self.db.execute(
                "SELECT 1 FROM journal WHERE txn_id = ?", (made[0].txn_id,)
            ).fetchone()
            return row is not None

        try:
            with self._transaction(landed):
                seq, prev_hash = self._head()
                record = make(seq, prev_hash)
                made.append(record)
                jws = self.key.jws(record.canonical())
                link = chain_hash(jws)
                self.db.execute(
                    "INSERT INTO journal (seq, txn_id, kind, method, amount_won, original_txn, "
                    "time_ms, offline, token_id, hash, jws) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        seq,
                        record.txn_id,
                        record.kind,
                        record.method,
                        record.amount_won,
                        record.refs.get("original_txn"),
                        record.time_ms,
                        int(offline),
                        token_id,
                        link,
                        jws,
                    ),
                )
        except LedgerConstraint:
            # Which constraint is a question for the data, not for the error's text.
            if token_id is not None and self._read(
                "SELECT 1 FROM journal WHERE token_id = ?", (token_id,)
            ):
                raise TokenReplayed(f"token {token_id} was already used on this terminal") from None
            raise
        self._last = (seq, link)
        return Recorded(record, jws)

    def _head(self) -> tuple[int, str]:
        """The next seq and the hash it must carry. Cached: this is the only writer; but should
        another connection ever have written (a maintenance job beside a stopped-looking
        service), SQLite's data_version says so and the head is read again."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._last, self._data_version = None, version
        if self._last is None:
            row = self.db.execute(
                "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            self._last = (row[0], row[1]) if row else (0, GENESIS_HASH)
        return self._last[0] + 1, self._last[1]

    @serialized
    def use_config_version(self, version: int) -> None:
        """The platform-pushed configuration version now in force (the app calls this when it
        puts one in force, between sales); every record written from now on names it."""
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise ValueError(f"config version must be a whole number, 0 or more: {version!r}")
        self.config_version = version

    def _new_record(
        self, seq, prev_hash, clock: ClockState, txn_id: str | None = None, **fields
    ) -> Record:
        return Record(
            txn_id=txn_id or str(uuid7(clock.now_ms, os.urandom(10))),
            device_id=self.device_id,
            seq=seq,
            prev_hash=prev_hash,
            time_ms=clock.now_ms,
            clock_synced=clock.trusted,
            config_version=self.config_version,
            **fields,
        )

    @serialized
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
        list_won: int | None = None,
        discount_won: int = 0,
        txn_id: str | None = None,
        approval: str | None = None,
    ) -> Recorded:
        """A sale. A customer token, online or offline, enters the seen set with it: the same
        token can never be accepted again on this terminal, on either path. `amount_won` is
        what the customer was charged; with a 선할인, list_won and discount_won say how.
        `txn_id`: the id the platform already knows the sale by (an online authorization's,
        so that its refund finds the customer's payment); by default a new UUIDv7."""
        if txn_id is not None and not _is_uuid(txn_id):
            raise ValueError(f"txn_id must be a UUID, got {txn_id!r}")
        named = (("charge_id", charge_id), ("token_id", token_id), ("approval", approval))
        refs = {k: v for k, v in named if v}  # approval: the platform's approval number
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
                list_won=list_won,
                discount_won=discount_won,
                txn_id=txn_id,
            ),
            offline=offline,
            token_id=token_id or None,
        )

    @serialized
    def record_refund(
        self,
        *,
        original_txn: str,
        amount_won: int,
        clock: ClockState,
        void: bool = False,
        approval: str | None = None,
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
            # A 선할인 comes back in proportion: list and discount add up to the sale's exactly.
            back = refund_price(Price(original.list_won, original.discount_won), refunded, amount)
            return self._new_record(
                seq,
                prev,
                clock,
                kind="void" if void else "refund",
                method=original.method,
                amount_won=amount,
                benefits=reversed_benefits.as_dict(),
                refs={"original_txn": original_txn, **({"approval": approval} if approval else {})},
                offline=False,
                list_won=back.list_won,
                discount_won=back.discount_won,
            )

        return self._append(make, offline=False)

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

    @serialized
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
                entry = totals.setdefault(
                    f"{record.kind}_{record.method}", {"count": 0, "amount_won": 0}
                )
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

        return self._append(make, offline=False)

    @serialized
    def note_trusted_time(self, now_ms: int) -> None:
        """Remembers a time known to be right (after NTP sync), for the next boot's clock check."""
        with self._transaction():
            self.db.execute(
                "INSERT INTO meta VALUES ('last_trusted_ms', ?) ON CONFLICT(key) DO UPDATE SET "
                "value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
                (str(now_ms),),
            )

    # --- outbox (sync asks the ledger to change states: one writer) -------------------------

    @serialized
    def reclaim_stuck(self) -> int:
        """Rows left 'sending' by a crash go back to 'pending'; returns how many."""
        with self._transaction():
            return self.db.execute(
                "UPDATE journal SET state = 'pending' WHERE state = 'sending'"
            ).rowcount

    @serialized
    def claim(self, limit: int, now_ms: int) -> list[tuple[str, str]]:
        """Marks up to `limit` oldest pending rows 'sending'; returns (txn_id, jws) in seq order."""
        rows: list[tuple[str, str]] = []

        def landed() -> bool:
            marked = self.db.execute(
                "SELECT COUNT(*) FROM journal WHERE state = 'sending' AND locked_ms = ? "
                f"AND txn_id IN ({','.join('?' * len(rows))})",
                (now_ms, *(txn for txn, _ in rows)),
            ).fetchone()[0]
            return marked == len(rows)

        with self._transaction(landed):
            rows += self.db.execute(
                "SELECT txn_id, jws FROM journal WHERE state = 'pending' ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
            self.db.executemany(
                "UPDATE journal SET state = 'sending', locked_ms = ?, attempts = attempts + 1 "
                "WHERE txn_id = ?",
                [(now_ms, txn) for txn, _ in rows],
            )
        return rows

    @serialized
    def settle(self, accepted: list[str], rejected: dict[str, str], retry: list[str]) -> None:
        """Applies the platform's answers in one transaction: all of them or none. Repeating
        it with the same answers is harmless: after an error, call it again."""
        with self._transaction():
            self.db.executemany(
                "UPDATE journal SET state = 'accepted', reason = NULL "
                "WHERE txn_id = ? AND state = 'sending'",
                [(txn_id,) for txn_id in accepted],
            )
            # Kept with its reason for the operator; never deleted.
            self.db.executemany(
                "UPDATE journal SET state = 'rejected', reason = ? "
                "WHERE txn_id = ? AND state = 'sending'",
                [(reason, txn_id) for txn_id, reason in rejected.items()],
            )
            self.db.executemany(
                "UPDATE journal SET state = 'pending' WHERE txn_id = ? AND state = 'sending'",
                [(txn_id,) for txn_id in retry],
            )

    # --- reading ---------------------------------------------------------------------------

    @serialized
    def unsynced(self) -> Unsynced:
        """Offline sales the platform has not accepted: derived from the outbox rows that each
        sale's own transaction wrote, so the totals can never drift from the records. Rejected
        ones still count: that money is in doubt until an operator resolves it."""
        total, count, oldest = self._read(
            "SELECT COALESCE(SUM(amount_won), 0), COUNT(*), MIN(time_ms) FROM journal "
            "WHERE state != 'accepted' AND offline = 1"
        )
        return Unsynced(total, count, oldest)

    @serialized
    def queue(self) -> tuple[int, int | None]:
        """Outbox depth and the creation time of the oldest pending row (for the status bar)."""
        return self._read(
            "SELECT COUNT(*), MIN(time_ms) FROM journal WHERE state IN ('pending', 'sending')"
        )

    @serialized
    def last_trusted_ms(self) -> int:
        row = self._read("SELECT value FROM meta WHERE key = 'last_trusted_ms'")
        return int(row[0]) if row else 0

    @serialized
    def seen(self, token_id: str) -> bool:
        """Whether a sale on this terminal, online or offline, already used this token."""
        return self._read("SELECT 1 FROM journal WHERE token_id = ?", (token_id,)) is not None

    @serialized
    def export_lines(self, now_ms: int) -> list[str]:
        """The signed export (see terminal/ledger/export.py), read in one snapshot."""
        try:
            return list(export_lines(journal_rows(self.db), self.key, self.device_id, now_ms))
        except sqlite3.Error as error:
            raise translate(error, self.path) from None


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False
