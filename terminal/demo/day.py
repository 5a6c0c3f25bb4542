"""A scripted shop day played through the app's own keys, camera and screen: online MPM and CPM
sales, an outage with offline acceptances and a refusal, reconnection and drain, a partial
refund, the day close; then the platform's holdings are checked against the journal."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from terminal.core.money import format_won
from terminal.core.session.model import (
    Approved,
    Charge,
    History,
    RefundDone,
    Refused,
    ReportView,
    State,
)
from terminal.demo.world import MANAGER_PIN, World
from terminal.ledger.reader import read_records
from terminal.sim.platform.faults import Fault
from terminal.ui.screens import render

STEP_TIMEOUT = 60.0  # seconds any one step may take before the demo says which one hung


class DemoFailed(Exception):
    """The day did not go as scripted: the message names the step."""


@dataclass
class Tally:
    online_mpm: int = 0
    online_cpm: int = 0
    offline_mpm: int = 0
    offline_cpm: int = 0
    refused: list[str] = field(default_factory=list)
    sales_won: int = 0

    @property
    def sales(self) -> int:
        return self.online_mpm + self.online_cpm + self.offline_mpm + self.offline_cpm


class Day:
    def __init__(self, world: World, say: Callable[[str], None], seed: int = 2026):
        self.world, self.app, self.say = world, world.app, say
        self.random = random.Random(seed)
        self.tally = Tally()

    # --- driving the app ---------------------------------------------------------------------

    def until(self, wanted: Callable[[State], bool], what: str) -> State:
        try:
            return self.app.run(until=wanted, timeout=STEP_TIMEOUT)
        except TimeoutError:
            raise DemoFailed(
                f"{what}: not reached in {STEP_TIMEOUT:.0f} s "
                f"(screen: {type(self.app.state.screen).__name__})"
            ) from None

    def pause(self, seconds: float) -> None:
        """Lets the app run for a while (a customer takes the phone away)."""
        end = time.monotonic() + seconds
        self.app.run(until=lambda _: time.monotonic() >= end, timeout=seconds + STEP_TIMEOUT)

    def screen_image(self):
        """The picture on the terminal's display right now, as the customer's phone sees it."""
        return render(self.app.state, self.app.size, self.app.theme).image

    def ring_up(self, amount_won: int) -> Charge:
        self.app.press(*str(amount_won), "enter")
        return self.until(
            lambda s: isinstance(s.screen, Charge) and bool(s.screen.payload), "the sale QR"
        ).screen

    def shown_code(self, text: str, symbology: str = "QRCode"):
        """A customer holds a code to the camera: the screen it leads to (approved/refused)."""
        # A barcode is long and thin: customers hold it across the whole view.
        self.world.camera.show(text, symbology, 420.0 if symbology == "Code128" else 220.0)
        state = self.until(
            lambda s: isinstance(s.screen, (Approved, Refused)), "an answer to the code"
        )
        self.world.camera.clear()
        self.pause(0.45)  # out of view for longer than the hold release: the next code is new
        return state.screen

    def dismiss(self) -> None:
        self.app.press("cancel" if isinstance(self.app.state.screen, Refused) else "enter")
        self.until(lambda s: not isinstance(s.screen, (Approved, Refused)), "back to home")

    # --- the day ---------------------------------------------------------------------------

    def approved(self, screen, what: str) -> None:
        if not isinstance(screen, Approved):
            raise DemoFailed(f"{what}: expected approval, got {type(screen).__name__}")
        entry = screen.entry
        self.tally.sales_won += entry.amount_won
        where = "offline" if entry.offline else "online"
        cashback = f", cashback {format_won(entry.cashback_won)}" if entry.cashback_won else ""
        self.say(
            f"  {what} {format_won(entry.amount_won)} approved {where} (seq {entry.seq}{cashback})"
        )

    def mpm_online(self, amount: int) -> None:
        self.ring_up(amount)
        self.app.turn()
        self.world.wallet.pay_screen(self.screen_image())
        screen = self.until(lambda s: isinstance(s.screen, Approved), "MPM paid").screen
        self.approved(screen, "MPM: the customer's app scanned the screen and paid;")
        self.tally.online_mpm += 1
        self.dismiss()

    def cpm(self, amount: int, *, barcode: bool = False, offline: bool = False) -> None:
        self.ring_up(amount)
        token = self.world.wallet.token()
        text, symbology = (token.barcode_text, "Code128") if barcode else (token.qr_text, "QRCode")
        screen = self.shown_code(text, symbology)
        kind = "barcode" if barcode else "QR code"
        self.approved(screen, f"CPM: the customer showed a {kind};")
        if offline:
            self.tally.offline_cpm += 1
        else:
            self.tally.online_cpm += 1
        self.dismiss()

    def mpm_offline(self, amount: int) -> None:
        """The terminal is offline; the customer's app still reaches the platform, pays, and
        shows the platform-signed receipt, which the terminal checks with its camera."""
        self.ring_up(amount)
        self.app.turn()
        payment = self.world.wallet.pay_screen(self.screen_image())
        screen = self.shown_code(payment.receipt)
        self.approved(screen, "MPM offline: the terminal read the app's signed receipt;")
        self.tally.offline_mpm += 1
        self.dismiss()

    def refused_offline_barcode(self, amount: int) -> None:
        self.ring_up(amount)
        token = self.world.wallet.token()
        screen = self.shown_code(token.barcode_text, "Code128")
        if not isinstance(screen, Refused):
            raise DemoFailed(f"an offline barcode must be refused, got {type(screen).__name__}")
        self.say(f"  CPM offline barcode refused: 「{screen.message_ko}」 [{screen.code}]")
        self.tally.refused.append(screen.code)
        self.app.press("cancel")  # the refusal, then the charge itself
        self.until(lambda s: not isinstance(s.screen, Refused), "refusal acknowledged")
        self.app.press("cancel")
        self.until(lambda s: not isinstance(s.screen, Charge), "charge cancelled")

    def amount(self) -> int:
        return self.random.choice((3_500, 4_000, 4_500, 6_000, 8_000, 9_900, 12_000, 15_500))

    def play(self, online_sales: int = 16, offline_sales: int = 6) -> None:
        server = self.world.server
        self.say("waiting for the terminal to be online with a trusted clock")
        self.until(lambda s: s.ctx.status.online and s.ctx.status.clock_trusted, "online")
        self.say(f"online: {online_sales} sales, MPM and CPM (QR and barcode)")
        for number in range(online_sales):
            kind = number % 4
            if kind in (0, 2):
                self.mpm_online(self.amount())
            else:
                self.cpm(self.amount(), barcode=kind == 3)
        self.say("the network goes down (the simulator refuses and drops the terminal's calls)")
        server.faults.set(Fault("refuse"), Fault("drop_request"))
        server.settle()
        for number in range(offline_sales):
            if number % 3 == 2:
                self.mpm_offline(self.amount())
            else:
                self.cpm(self.amount(), offline=True)
        self.refused_offline_barcode(self.amount())
        state = self.until(lambda s: not s.ctx.status.online, "status bar offline")
        self.say(f"  status bar: offline, {state.ctx.status.queue_depth} record(s) waiting")
        self.say("the network comes back: the outbox drains")
        server.faults.clear()
        server.settle()
        self.until(lambda s: s.ctx.status.online and s.ctx.status.queue_depth == 0, "drained")
        self.refund_first_sale()
        self.close_day()
        self.wait_synced()

    def refund_first_sale(self) -> None:
        app = self.app
        app.press("F2")
        self.until(lambda s: isinstance(s.screen, History), "today's list")
        while app.state.screen.cursor < self.tally.sales - 1:
            cursor = app.state.screen.cursor
            app.press("F2")
            self.until(lambda s, c=cursor: s.screen.cursor == c + 1, "down the list")
        app.press("F4", *MANAGER_PIN, "enter", "clear", "2", "00", "0", "enter")
        entry = self.until(lambda s: isinstance(s.screen, RefundDone), "refund").screen.entry
        self.say(
            f"refund of {format_won(entry.amount_won)} from the first sale of the day "
            f"(manager PIN, online at the platform, seq {entry.seq})"
        )
        app.press("enter")

    def close_day(self) -> None:
        self.app.press("F3", *MANAGER_PIN, "enter", "enter")
        report = self.until(lambda s: isinstance(s.screen, ReportView), "Z report").screen.report
        self.say(
            f"day closed: {report.sales_count} sales, refunds {format_won(report.refund_won)}, "
            f"net {format_won(report.net_won)}"
        )
        self.app.press("enter")

    def wait_synced(self) -> None:
        """Until the platform holds every record of the journal (the close record last)."""
        checked = [0.0]

        def synced(_state) -> bool:
            if time.monotonic() - checked[0] < 0.2:
                return False
            checked[0] = time.monotonic()
            return journal_holds(self.world) <= platform_holds(self.world)

        self.until(synced, "every record at the platform")


def platform_holds(world: World) -> set[str]:
    device = world.config.device.id
    return world.server.call(
        lambda platform: {
            row[0]
            for row in platform.db.execute(
                "SELECT txn_id FROM records WHERE device_id = ?", (device,)
            )
        }
    )


def journal_holds(world: World) -> set[str]:
    return {record.txn_id for record in read_records(world.files.database)}
