"""Payments to the printed QR stand (고정형) reach the journal: the sync thread hands them over
(terminal/sync/stand.py), and on the session thread each becomes a sale record whose
transaction id is the platform's payment id: method "mpm", online, charge reference the
stand's "STAND-nnnnnn", the platform's cashback figures. So the journal, today's history, the
day totals and the Z report all include it, and its upload is that payment's one record at the
platform. Once recorded, the cursor is acknowledged; a payment already in the journal (handed
over again after a crash) is skipped by its id."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from terminal.core.benefits import Benefits
from terminal.core.session.model import TxnEntry
from terminal.core.session.report import entry_from_record
from terminal.core.session.stand import is_stand_reference
from terminal.ledger.errors import LedgerError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StandArrived:
    """App-internal: the sync fetched payments to the stand; record them on the session thread."""

    payments: tuple


class StandRecorder:
    def __init__(self, ledger, clock, feed, records=None):
        self.ledger, self.clock, self.feed = ledger, clock, feed
        self._records = records  # () -> journal records, read once when first needed
        self._recorded: set[str] | None = None

    def recorded(self) -> set[str]:
        """Transaction ids of the stand sales already in the journal."""
        if self._recorded is None:
            records = self._records() if self._records is not None else ()
            self._recorded = {
                r.txn_id
                for r in records
                if r.kind == "sale" and is_stand_reference(r.refs.get("charge_id", ""))
            }
        return self._recorded

    def record(self, payments) -> tuple[TxnEntry, ...]:
        """Each payment not yet in the journal becomes a sale record; returns their entries.
        A ledger failure stops here and asks the sync to hand the rest over again."""
        entries, done = [], []
        for payment in payments:
            if payment.payment_id not in self.recorded():
                try:
                    recorded = self.ledger.record_sale(
                        amount_won=payment.amount,
                        method="mpm",
                        benefits=Benefits(
                            payment.benefits["city_won"],
                            payment.benefits["district_won"],
                            payment.benefits["merchant_won"],
                        ),
                        clock=self.clock.state(),
                        offline=False,
                        charge_id=payment.stand,
                        txn_id=payment.payment_id,
                    )
                except LedgerError as error:
                    log.error("stand payment %s not recorded: %s", payment.payment_id, error)
                    self.feed.acknowledge(tuple(done))
                    self.feed.retry()
                    return tuple(entries)
                self.recorded().add(payment.payment_id)
                entries.append(entry_from_record(recorded.record))
            done.append(payment)
        self.feed.acknowledge(tuple(done))
        return tuple(entries)
