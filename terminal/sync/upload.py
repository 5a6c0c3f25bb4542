"""Sending the outbox: claim a batch from the ledger, upload it, settle what the platform said.

Exactly once rests on three rules. A row leaves 'sending' only through `settle`, in one ledger
transaction, so a crash between sending and settling leaves it 'sending' and the ledger's
`reclaim_stuck` puts it back on the next start; the platform answers the re-send "duplicate".
Only an answer that names exactly the ids sent, each once, is believed. And a record is
marked rejected only on the platform's explicit word, with its reason kept for the operator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from terminal.sync.answers import UploadResult
from terminal.sync.client import MAX_BATCH_BYTES, MAX_BATCH_RECORDS, PlatformClient
from terminal.sync.errors import MalformedResponse, Parked, SyncError

# Per record in the request body beyond the JWS text itself: {"id":"<36>","jws":""},
RECORD_OVERHEAD = 60


@dataclass
class DrainReport:
    sent: int = 0  # records sent (a re-send counts again)
    accepted: int = 0
    duplicate: int = 0
    parked: int = 0
    requests: int = 0
    reasons: dict[str, str] = field(default_factory=dict)  # parked id → platform's reason

    def add(self, other: DrainReport) -> None:
        self.sent += other.sent
        self.accepted += other.accepted
        self.duplicate += other.duplicate
        self.parked += other.parked
        self.requests += other.requests
        self.reasons.update(other.reasons)


class Uploader:
    """One batch at a time. `ledger` needs claim, settle; `now_ms` says when a row was claimed."""

    def __init__(
        self,
        ledger,
        client: PlatformClient,
        now_ms: Callable[[], int],
        *,
        batch_size: int = 50,
        batch_bytes: int = 256 * 1024,
    ):
        self.ledger, self.client, self.now_ms = ledger, client, now_ms
        self.batch_size = max(1, min(batch_size, MAX_BATCH_RECORDS))
        self.batch_bytes = max(1, min(batch_bytes, MAX_BATCH_BYTES - 1024))
        self.totals = DrainReport()  # since start, including passes a failure cut short
        self.on_batch: Callable[[], None] | None = None  # the sync thread's heartbeat

    def drain(self, max_batches: int | None = None) -> DrainReport:
        """Sends batches until the outbox is empty; a SyncError stops it (rows go back to
        pending first), and so does a batch that settled nothing (MalformedResponse: a retry
        after a backoff, never at once). Returns what happened."""
        report = DrainReport()
        batches = 0
        while max_batches is None or batches < max_batches:
            batch = self.send_batch()
            if batch is None:
                break
            report.add(batch)
            batches += 1
            if self.on_batch is not None:
                self.on_batch()  # a long drain is progress, not a stuck thread
        return report

    def send_batch(self) -> DrainReport | None:
        """One claimed batch, sent and settled; None when nothing is pending."""
        rows = self.ledger.claim(self.batch_size, self.now_ms())
        if not rows:
            return None
        batch, over = cut_by_bytes(rows, self.batch_bytes)
        if over:
            self.ledger.settle([], {}, [txn_id for txn_id, _ in over])
        report = DrainReport()
        try:
            self._send(batch, report)
        except BaseException:
            # Whatever went wrong, nothing is believed: the rows wait for the next attempt.
            self.ledger.settle([], {}, [txn_id for txn_id, _ in batch])
            raise
        if report.accepted + report.parked == 0:
            # The answer left out every record sent (they are pending again). Claiming them
            # again at once would loop as fast as the platform answers, two fsyncs a pass:
            # stop here, so the caller backs off as after any failed request.
            raise MalformedResponse(
                f"the upload answer named none of the {len(batch)} records sent"
            )
        return report

    def _send(self, batch: list[tuple[str, str]], report: DrainReport) -> None:
        for counts in (report, self.totals):
            counts.requests += 1
            counts.sent += len(batch)
        try:
            results = self.client.upload(batch)
        except Parked as refusal:
            if len(batch) == 1:
                reason = refusal.problem.name if refusal.problem else "refused"
                self._settle([], {batch[0][0]: f"refused: {reason} ({refusal})"}, [], report)
                return
            # A whole batch refused (e.g. one record malformed): find the culprit one by one,
            # so no good record is parked because of a bad neighbour.
            self.ledger.settle([], {}, [txn_id for txn_id, _ in batch[1:]])
            self._send(batch[:1], report)
            for row in batch[1:]:
                claimed = self._reclaim(row)
                if claimed:
                    self._send([row], report)
            return
        accepted, rejected, retry = match_results(batch, results)
        duplicates = sum(1 for r in results if r.status == "duplicate" and r.id in accepted)
        report.duplicate += duplicates
        self.totals.duplicate += duplicates
        self._settle(accepted, rejected, retry, report)

    def _reclaim(self, row: tuple[str, str]) -> bool:
        """Claims the next pending row again if it is `row` (seq order is kept)."""
        again = self.ledger.claim(1, self.now_ms())
        if again and again[0][0] == row[0]:
            return True
        if again:
            self.ledger.settle([], {}, [again[0][0]])
        return False

    def _settle(self, accepted, rejected, retry, report: DrainReport) -> None:
        self.ledger.settle(accepted, rejected, retry)
        for counts in (report, self.totals):
            counts.accepted += len(accepted)
            counts.parked += len(rejected)
            counts.reasons.update(rejected)


def cut_by_bytes(
    rows: Sequence[tuple[str, str]], limit: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The longest prefix within `limit` request bytes (at least one row), and the rest."""
    size = 0
    for index, (txn_id, jws) in enumerate(rows):
        size += len(txn_id) + len(jws) + RECORD_OVERHEAD
        if size > limit and index > 0:
            return list(rows[:index]), list(rows[index:])
    return list(rows), []


def match_results(
    batch: Sequence[tuple[str, str]], results: Sequence[UploadResult]
) -> tuple[list[str], dict[str, str], list[str]]:
    """(accepted, rejected with reasons, retry). An answer naming an id not sent, or one id
    twice, is malformed as a whole: it changes nothing. Ids the answer leaves out are retried."""
    sent = [txn_id for txn_id, _ in batch]
    sent_set = set(sent)
    by_id: dict[str, UploadResult] = {}
    for result in results:
        if result.id not in sent_set:
            raise MalformedResponse(f"upload answer names {result.id}, which was not sent")
        if result.id in by_id:
            raise MalformedResponse(f"upload answer names {result.id} twice")
        by_id[result.id] = result
    accepted, rejected, retry = [], {}, []
    for txn_id in sent:
        result = by_id.get(txn_id)
        if result is None:
            retry.append(txn_id)
        elif result.accepted:
            accepted.append(txn_id)
        else:
            rejected[txn_id] = result.why()
    return accepted, rejected, retry


__all__ = ["DrainReport", "SyncError", "Uploader", "cut_by_bytes", "match_results"]
