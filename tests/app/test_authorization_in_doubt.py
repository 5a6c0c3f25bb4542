"""A customer code's online authorization whose answer is lost (the platform charged, the reply
never came) must never lead to a second charge: the terminal asks again under the same
transaction id, and if it still has no answer it refuses the code, which is then never accepted
offline (security review finding: lost reply → offline fallback → double charge)."""

from __future__ import annotations

from terminal.core.session.model import Approved, Home, Refused
from terminal.core.tokens import scanned_token_id
from terminal.demo.day import Day
from terminal.sim.platform.faults import Fault


def balance(day: Day) -> int:
    ref = day.world.wallet.wallet_ref
    return day.world.server.call(
        lambda platform: platform.db.execute(
            "SELECT balance FROM wallets WHERE wallet_ref = ?", (ref,)
        ).fetchone()[0]
    )


def authorizations(day: Day) -> int:
    return day.world.server.call(
        lambda platform: platform.db.execute("SELECT count(*) FROM authorizations").fetchone()[0]
    )


def test_a_lost_reply_is_asked_again_under_the_same_id_and_charges_once(day):
    before = balance(day)
    day.ring_up(7_000)
    token = day.world.wallet.token()
    # The platform commits the first authorization, then the reply is lost.
    day.world.server.faults.set(Fault("drop_reply", path="/v1/authorizations", count=1))
    screen = day.shown_code(token.qr_text)
    assert isinstance(screen, Approved) and not screen.entry.offline
    assert day.world.server.faults.fired["drop_reply"] == 1
    # One debit: the amount less the cashback the platform paid back into the wallet.
    assert authorizations(day) == 1
    assert before - balance(day) == 7_000 - screen.entry.cashback_won


def test_an_answer_that_never_comes_refuses_the_code_and_it_is_never_taken_offline(day):
    before = balance(day)
    day.ring_up(6_000)
    token = day.world.wallet.token()
    day.world.server.faults.set(Fault("drop_reply", path="/v1/authorizations"))
    screen = day.shown_code(token.qr_text)
    assert isinstance(screen, Refused) and screen.code == "result_unknown"
    charged = before - balance(day)
    assert charged > 0  # the platform did charge: the shopkeeper must not charge again
    # The platform goes away entirely (no connection can be made: the offline rules decide),
    # and the customer shows the same code again.
    day.world.server.stop()
    day.app.press("cancel")  # the refusal; then a new sale for the same customer
    day.until(lambda s: isinstance(s.screen, Home), "home")
    day.ring_up(6_000)
    again = day.shown_code(token.qr_text)
    assert isinstance(again, Refused) and again.code == "replayed", again.code


def test_the_scanned_code_names_its_token_without_the_platforms_help(day):
    token = day.world.wallet.token()
    assert scanned_token_id(token.qr_text) == str(token.token_id)
    assert scanned_token_id(token.barcode_text) == str(token.token_id)
    assert scanned_token_id("EU1:not-a-token") is None
