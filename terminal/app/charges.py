"""The merchant-presented QR (MPM) effects: sign and show the sale QR, register it at the
platform and long-poll it, believe "paid" only with the platform's receipt for this sale,
cancel, and check a customer's receipt QR offline."""

from __future__ import annotations

import logging
import os
import time
from functools import partial

from terminal.app import support  # KEY_WAIT_SECONDS read at call time (tests shorten it)
from terminal.app.support import (
    PLATFORM_ISSUER,
    RECEIPT_MESSAGES,
    OpenCharge,
    benefits_of,
    sealed_key_name,
)
from terminal.config.merchant import sale_for
from terminal.core.receipt import ReceiptError, verify_receipt
from terminal.core.sale_qr import build_sale_qr
from terminal.core.session import commands as c
from terminal.core.session.events import ChargePaid, ChargeReady, Declined, ReceiptAccepted
from terminal.sync.errors import SyncError

log = logging.getLogger(__name__)


class ChargeEffects:
    """Mixed into terminal.app.effects.Effects, whose fields these methods use."""

    # --- the charge (MPM) ------------------------------------------------------------------

    def _CreateCharge(self, command: c.CreateCharge) -> None:
        now = time.time()
        sale = sale_for(self.config, command.amount_won, self.device_key.kid, now, os.urandom(8))
        payload = build_sale_qr(sale, self.device_key.sign)
        self.charges[sale.charge_id] = OpenCharge(payload, command.amount_won)
        expires_ms = sale.expires_at * 1000
        # Shown at once: the QR works offline too (the customer's receipt proves payment).
        self.post(ChargeReady(command.request, sale.charge_id, payload, expires_ms))
        if self.client_factory is not None:
            self._background(lambda: self._register(sale.charge_id, expires_ms))

    def _register(self, charge_id: str, expires_ms: int) -> None:
        charge = self.charges.get(charge_id)
        if charge is None:
            return
        try:
            self._client().register_charge(charge_id, charge.amount_won, expires_ms, charge.payload)
        except SyncError as error:
            log.info("charge %s not registered (%s): offline receipts only", charge_id, error)
            return
        charge.registered = True
        self._watch(charge_id)

    def _watch(self, charge_id: str) -> None:
        """Long-polls the charge until it is paid or no longer shown."""
        wait = min(self.config.sync.long_poll_seconds, 25)
        while charge_id in self.charges and not self._stopping.is_set():
            try:
                status = self._client().charge_status(charge_id, wait)
            except SyncError:
                if self._stopping.wait(1.0):
                    return
                continue
            if status.status == "paid":
                problem = self._paid_receipt_problem(charge_id, status)
                if problem:
                    # "Paid" must come with the platform's signed receipt for this very sale;
                    # without it nothing is recorded: the customer's app can still show the
                    # receipt to the camera.
                    log.error("charge %s: paid without a valid receipt (%s)", charge_id, problem)
                    return
                if status.benefits:  # the platform's, with the customer's monthly caps applied
                    self.platform_benefits[charge_id] = benefits_of(status.benefits)
                self.post(ChargePaid(charge_id, status.amount, status.receipt or ""))
                return
            if status.status != "pending":
                return

    def _paid_receipt_problem(self, charge_id: str, status) -> str:
        """Why a "paid" answer cannot be believed ("" when it can): its receipt must verify
        with a platform key and name this charge, its amount and this sale's QR. A key we do not
        know yet is fetched (rate-limited in sync) and the receipt checked once more."""
        charge = self.charges.get(charge_id)
        if charge is None:
            return "the charge is no longer shown"
        for attempt in range(2):
            generation = getattr(self.keys, "generation", None)
            try:
                verify_receipt(
                    status.receipt or "",
                    self.keys.platform_keys.check_tagged,
                    sale_payload=charge.payload,
                    charge_id=charge_id,
                    amount_won=charge.amount_won,
                    expected_issuer=PLATFORM_ISSUER,
                )
                return ""
            except ReceiptError as error:
                fetch = error.reason == "unknown_key" and attempt == 0 and generation is not None
                if not (fetch and self.unknown_key(sealed_key_name(status.receipt or ""))):
                    return error.reason
                if not self.keys.wait_newer(generation, support.KEY_WAIT_SECONDS):
                    return error.reason
        return "unknown_key"

    def _CancelCharge(self, command: c.CancelCharge) -> None:
        charge = self.charges.pop(command.charge_id, None)
        if charge is not None and charge.registered and self.client_factory is not None:
            self._background(lambda: self._cancel(command.charge_id))

    def _cancel(self, charge_id: str) -> None:
        try:
            self._client().cancel_charge(charge_id)
        except SyncError as error:
            log.info("charge %s not cancelled at the platform: %s", charge_id, error)

    def _VerifyReceipt(self, command: c.VerifyReceipt) -> None:
        charge = self.charges.get(command.charge_id)
        if charge is None:
            self.post(Declined(command.request, "wrong_charge", RECEIPT_MESSAGES["wrong_charge"]))
            return
        try:
            receipt = verify_receipt(
                command.text,
                self.keys.platform_keys.check_tagged,
                sale_payload=charge.payload,
                charge_id=command.charge_id,
                amount_won=command.amount_won,
                expected_issuer=PLATFORM_ISSUER,
            )
        except ReceiptError as error:
            message = RECEIPT_MESSAGES.get(error.reason, "영수증을 확인할 수 없습니다.")
            refuse = partial(self.post, Declined(command.request, error.reason, message))
            if error.reason == "unknown_key":
                self._after_fresh_keys(command, lambda: self._VerifyReceipt(command), refuse)
            else:
                refuse()
            return
        self.post(ReceiptAccepted(command.request, receipt.payment_ref.hex()))
