"""An app on fakes for tests: headless display, scripted keys, recording feedback, the dummy
printer, a live simulated camera, a trusted clock, and a platform key that signs codes."""

from __future__ import annotations

import os
import time
from pathlib import Path

from terminal.app.loop import App, Parts
from terminal.config.loader import load_config
from terminal.config.pins import make_pin_hash
from terminal.core.receipt import PaymentReceipt, build_receipt, sale_digest
from terminal.core.tokens import CustomerToken, build_customer_token
from terminal.hw.factory import layout_of
from terminal.ledger.store import Ledger
from terminal.signing import DeviceKey, jwks_document
from terminal.sim.display import HeadlessDisplay
from terminal.sim.feedback import RecordingFeedback
from terminal.sim.input import ScriptedInput
from terminal.sim.live_camera import LiveCamera
from terminal.sim.printer import DummyPrinter
from terminal.sync.keys import KeyCache
from terminal.sync.trusted_time import TrustedClock

MANAGER_PIN = "2580"
PLATFORM_KID = "test-platform-1"


def kit_config(state_dir: Path, **extra: str):
    env = {
        "QR_TERMINAL__PATHS__STATE_DIR": str(state_dir),
        "QR_TERMINAL__COUNTER__MANAGER_PIN_HASH": make_pin_hash(MANAGER_PIN),
        "QR_TERMINAL__PRINTER__BACKEND": "dummy",
        "QR_TERMINAL__DECODER__HOLD_RELEASE_MS": "300",  # a code taken away is new after 0.3 s
        **extra,
    }
    return load_config(device_file=None, env=env).config


def trusted_clock(ledger) -> TrustedClock:
    clock = TrustedClock(
        wall_ms=lambda: time.time_ns() // 1_000_000,
        monotonic=time.monotonic,
        last_trusted_ms=ledger.last_trusted_ms(),
        note_trusted=ledger.note_trusted_time,
        ntp=lambda: True,  # this test machine's clock counts as synchronised
    )
    clock.refresh_trust()
    return clock


class Kit:
    """The app and the world around it."""

    def __init__(self, state_dir: Path, config=None, **parts):
        self.config = config or kit_config(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.device_key = DeviceKey.generate()
        self.platform_key = DeviceKey.generate()
        self.ledger = Ledger(state_dir / "terminal.db", self.device_key, self.config.device.id)
        self.camera = LiveCamera(fps=20)
        self.display = HeadlessDisplay(layout_of(self.config))
        self.feedback = RecordingFeedback()
        self.printer = DummyPrinter()
        keys = KeyCache(None)
        keys.install(jwks_document({PLATFORM_KID: self.platform_key.public_key}), time.monotonic())
        defaults = dict(
            config=self.config,
            state_dir=state_dir,
            ledger=self.ledger,
            device_key=self.device_key,
            display=self.display,
            keys=ScriptedInput([]),
            feedback=self.feedback,
            camera=self.camera,
            printer=self.printer,
            clock=trusted_clock(self.ledger),
            platform_keys=keys,
        )
        defaults.update(parts)
        self.app = App(Parts(**defaults))
        self.log: list = []
        self.app.observers.append(
            lambda event, state, commands: self.log.append((event, state, commands))
        )

    def token(self, token_id: int, cap: int = 50_000, issued: int | None = None) -> str:
        issued = int(time.time()) if issued is None else issued
        token = CustomerToken("IE", token_id, os.urandom(8), issued, 180, cap)
        return build_customer_token(token, PLATFORM_KID, self.platform_key.sign)

    def receipt(self, charge_id: str, amount: int, payload: str) -> str:
        receipt = PaymentReceipt(
            "IE", charge_id, amount, int(time.time()), os.urandom(8), sale_digest(payload)
        )
        return build_receipt(receipt, PLATFORM_KID, self.platform_key.sign)

    def idle(self, seconds: float) -> None:
        """Lets the app run for `seconds` (the camera keeps reading)."""
        end = time.monotonic() + seconds
        self.app.run(until=lambda _: time.monotonic() >= end, timeout=seconds + 5)

    def screen_is(self, kind):
        return lambda state: isinstance(state.screen, kind)

    def commands(self, kind) -> list:
        return [c for _, _, commands in self.log for c in commands if isinstance(c, kind)]

    def sales(self) -> int:
        return self.ledger.queue()[0]
