"""The customer-presented code (CPM) effects: online authorization (a lost answer asked
again under the same transaction id, never decided offline afterwards), the offline rules on
the session thread, and a second look once the platform's new keys arrive."""

from __future__ import annotations

import logging
from functools import partial

from terminal.app import support  # KEY_WAIT_SECONDS read at call time (tests shorten it)
from terminal.app.support import (
    AUTHORIZE_RETRY_PAUSES,
    PLATFORM_ISSUER,
    RESULT_UNKNOWN_KO,
    OfflineDecision,
    OnSessionThread,
    benefits_of,
    new_txn_id,
    platform_declined,
    sealed_key_name,
)
from terminal.config.merchant import barcode_for, limits_for
from terminal.core.offline import accept_offline_token
from terminal.core.session import commands as c
from terminal.core.session.events import Authorized, Declined
from terminal.core.tokens import scanned_token_id
from terminal.sync.errors import PlatformUnreachable, RetryLater, SyncError

log = logging.getLogger(__name__)


class CodeEffects:
    """Mixed into terminal.app.effects.Effects, whose fields these methods use."""

    # --- the customer's code (CPM) ---------------------------------------------------------

    def _AuthorizeCode(self, command: c.AuthorizeCode) -> None:
        if command.online and self.client_factory is not None:
            self._background(lambda: self._authorize_online(command))
        else:
            self.decide_offline(command)

    def _authorize_online(self, command: c.AuthorizeCode) -> None:
        txn_id = new_txn_id()
        barcode = command.text.isdigit()
        scanned = scanned_token_id(command.text, barcode_for(self.config))
        try:
            decision = self._authorize_surely(txn_id, command, barcode)
        except PlatformUnreachable as error:
            if error.no_connection:
                # Nothing reached the platform: the offline rules decide, on the session thread.
                self.post(OfflineDecision(command))
                return
            self._in_doubt(command, scanned)
            return
        except RetryLater:
            self._in_doubt(command, scanned)
            return
        except SyncError as error:
            self.post(Declined(command.request, "platform", error.message_ko))
            return
        if not decision.approved:
            self.post(platform_declined(command.request, decision.reason, "결제가 거절되었습니다."))
            return
        # The seen set must hold this token whatever the answer said about it.
        token_id = decision.token_id or scanned or ""
        if decision.benefits:
            self.platform_benefits[token_id] = benefits_of(decision.benefits)
        # The record takes the authorization's id: the platform knows the payment by it, so a
        # refund of this sale finds the customer's money.
        self.authorized_txn[token_id] = txn_id
        if decision.approval_number:
            self.approvals[token_id] = decision.approval_number
        self.post(Authorized(command.request, token_id, offline=False))

    def _authorize_surely(self, txn_id: str, command: c.AuthorizeCode, barcode: bool):
        """The authorization, asked again under the same transaction id while the answer is in
        doubt (the request may have reached the platform): the platform answers a repeated id
        with its first answer, so the customer is never charged twice."""
        for attempt, pause in enumerate(AUTHORIZE_RETRY_PAUSES):
            try:
                return self._client().authorize(
                    txn_id, command.text, command.amount_won, barcode=barcode
                )
            except PlatformUnreachable as error:
                if error.no_connection and attempt == 0:
                    raise  # certainly not delivered: no need to ask again
                last = error
            except RetryLater as error:
                last = error
            if self._stopping.wait(pause):
                break
        raise last

    def _in_doubt(self, command: c.AuthorizeCode, scanned: str | None) -> None:
        """The platform may have charged the customer but did not say so. Never accept this
        code offline afterwards (that could charge twice); the shopkeeper asks the customer."""
        if scanned:
            self.doubtful_tokens.add(scanned)
        self.post(Declined(command.request, "result_unknown", RESULT_UNKNOWN_KO))

    def decide_offline(self, command: c.AuthorizeCode) -> None:
        """The offline rules, on the session thread (they read the ledger)."""
        token, refused = accept_offline_token(
            command.text,
            command.amount_won,
            check=self.keys.platform_keys.check_tagged,
            expected_issuer=PLATFORM_ISSUER,
            already_seen=lambda token_id: (
                token_id in self.doubtful_tokens or self.ledger.seen(token_id)
            ),
            limits=limits_for(self.config),
            unsynced=self.ledger.unsynced(),
            clock=self.clock.state(),
            barcode=barcode_for(self.config),
        )
        if refused is not None:
            refuse = partial(self.post, Declined(command.request, refused.code, refused.message_ko))
            if refused.code == "unknown_key":
                self._after_fresh_keys(command, lambda: self.decide_offline(command), refuse)
            else:
                refuse()
            return
        self.post(Authorized(command.request, str(token.token_id), offline=True))

    def _after_fresh_keys(self, command, check_again, refuse) -> None:
        """A code or receipt signed by a platform key we lack (the platform may have rotated
        its keys). The sync is asked for the keys (rate-limited there); when a fetch is coming
        now, an I/O thread waits for it (bounded) and the code is checked once more on the
        session thread; only then, or at once when no fetch is coming, is the refusal final."""
        generation = getattr(self.keys, "generation", None)
        first_time = command.request not in self.rechecked
        coming = self.unknown_key(sealed_key_name(command.text))
        if not (first_time and coming and generation is not None):
            refuse()
            return
        self.rechecked.add(command.request)

        def wait() -> None:
            if self.keys.wait_newer(generation, support.KEY_WAIT_SECONDS):
                self.post(OnSessionThread(check_again))
            else:
                refuse()

        if self._background(wait) is None:
            refuse()
