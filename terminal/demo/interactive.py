"""`qr-terminal demo --interactive`: a person runs the counter in a window. The terminal's own
keys work as on a keypad (digits, Enter, Backspace, Delete = clear, Esc = cancel, Tab = menu,
F1–F4); letter keys play the customer and the network."""

from __future__ import annotations

import time
from collections.abc import Callable

from terminal.core.session.model import Approved, Charge, Refused
from terminal.demo.world import MANAGER_PIN, World
from terminal.sim.platform.faults import Fault
from terminal.sim.wallet import WalletRefusal
from terminal.ui.screens import render

HELP = (
    "customer keys: p = pay the QR on the screen with the app, q = show a payment QR code, "
    "b = show a payment barcode, n = cut / restore the network, x = quit "
    f"(manager PIN {MANAGER_PIN})"
)
SHOW_SECONDS = 4.0  # how long the customer holds a code to the camera at most


class Counter:
    """The customer and the network, played from the keyboard."""

    def __init__(self, world: World, say: Callable[[str], None]):
        self.world, self.say = world, say
        self.offline = False
        self.showing_until = 0.0
        self.quit = False

    def handle(self, name: str) -> None:
        action = {
            "p": self.pay_screen,
            "q": lambda: self.show("qr"),
            "b": lambda: self.show("barcode"),
            "n": self.toggle_network,
            "x": self.stop,
        }.get(name)
        if action is not None:
            action()

    def pay_screen(self) -> None:
        app = self.world.app
        if not isinstance(app.state.screen, Charge):
            self.say("  (the customer sees no payment QR on the screen)")
            return
        try:
            payment = self.world.wallet.pay_screen(render(app.state, app.size, app.theme).image)
        except WalletRefusal as refusal:
            self.say(f"  the customer's app refuses the QR: {refusal}")
            return
        if self.offline:
            self.say("  paid; the terminal is offline, so the app shows its receipt to the camera")
            self.world.camera.show(payment.receipt)
            self.showing_until = time.monotonic() + SHOW_SECONDS
        else:
            self.say("  the customer's app paid the QR")

    def show(self, kind: str) -> None:
        token = self.world.wallet.token()
        if kind == "barcode":
            self.world.camera.show(token.barcode_text, "Code128", 420.0)
        else:
            self.world.camera.show(token.qr_text)
        self.showing_until = time.monotonic() + SHOW_SECONDS
        self.say(f"  the customer holds a payment {kind} to the camera")

    def toggle_network(self) -> None:
        server = self.world.server
        self.offline = not self.offline
        if self.offline:
            server.faults.set(Fault("refuse"), Fault("drop_request"))
        else:
            server.faults.clear()
        server.settle()
        self.say("  network cut" if self.offline else "  network restored")

    def stop(self) -> None:
        self.quit = True

    def after_turn(self, state) -> None:
        """The customer takes the phone away once it is answered or after a while."""
        answered = isinstance(state.screen, (Approved, Refused))
        if self.showing_until and (answered or time.monotonic() > self.showing_until):
            self.world.camera.clear()
            self.showing_until = 0.0


def narrator(say: Callable[[str], None]):
    """Says each approval and refusal once, as the screen changes to it."""
    shown = [None]

    def observe(_event, state, _commands) -> None:
        screen = state.screen
        if screen is shown[0] or not isinstance(screen, (Approved, Refused)):
            shown[0] = screen if isinstance(screen, (Approved, Refused)) else None
            return
        shown[0] = screen
        if isinstance(screen, Approved):
            where = "offline" if screen.entry.offline else "online"
            say(f"  approved {screen.entry.amount_won:,}원 {where} (seq {screen.entry.seq})")
        else:
            say(f"  refused [{screen.code}] {screen.message_ko}")

    return observe


def play_interactive(world: World, say: Callable[[str], None]) -> int:
    display = world.app.parts.display
    if not hasattr(display, "other_keys"):
        say("--interactive needs a window: run it on a desktop (DISPLAY set), without --headless")
        return 2
    counter = Counter(world, say)
    world.app.observers.append(narrator(say))
    say(HELP)

    def wake(state) -> bool:
        counter.after_turn(state)
        return bool(display.other_keys) or display.closed_by_user or counter.quit

    while not (display.closed_by_user or counter.quit):
        world.app.run(until=wake)
        while display.other_keys:
            counter.handle(display.other_keys.popleft())
    say("window closed: the terminal shuts down cleanly")
    return 0
