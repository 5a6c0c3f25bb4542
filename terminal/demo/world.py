"""The world around a demo terminal: the platform simulator over HTTPS + mTLS on 127.0.0.1, a
device enrolled through the simulator's enrollment endpoint, a live simulated camera, a
customer's wallet, and the real app built from configuration on top of them."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from terminal.app.compose import build_app
from terminal.app.loop import App
from terminal.config import load_config
from terminal.config.pins import make_pin_hash
from terminal.provision.identity import enroll, write_identity
from terminal.provision.layout import StateFiles
from terminal.signing import DeviceKey
from terminal.sim.live_camera import LiveCamera
from terminal.sim.platform.server import PlatformServer
from terminal.sim.wallet import InProcessLink, Wallet

MANAGER_PIN = "7410"  # the demo shop's manager PIN (refunds, day close)
SERIAL = "DEMO-0001"


@dataclass
class World:
    server: PlatformServer
    app: App
    camera: LiveCamera
    wallet: Wallet
    config: object
    files: StateFiles
    frames: Path
    closed: bool = False

    def close(self) -> None:
        """Stops the app and the simulator; a second call does nothing."""
        if self.closed:
            return
        self.closed = True
        try:
            self.app.shutdown()
        finally:
            self.server.stop()


def display_backend(headless: bool, env: dict[str, str]) -> str:
    """A window where there is a screen to open it on, PNG frames otherwise."""
    return "window" if not headless and env.get("DISPLAY") else "headless"


def enroll_device(
    server: PlatformServer, state_dir: Path, *, serial: str = SERIAL, env: dict | None = None
):
    """A device enrolled at the simulator with a one-time code, its identity written into
    `state_dir` the way provisioning writes it; returns (config, files). `env`: more
    configuration (QR_TERMINAL__SECTION__KEY) on top of the enrolled identity."""
    key = DeviceKey.generate()
    enrollment = enroll(server.url, server.ca_path, server.new_code(), key, serial)
    settings = {
        "QR_TERMINAL__PATHS__STATE_DIR": str(state_dir),
        "QR_TERMINAL__DEVICE__ID": enrollment.device_id,
        "QR_TERMINAL__DEVICE__SERIAL": serial,
        "QR_TERMINAL__MERCHANT__ID": str(enrollment.merchant["id"]),
        "QR_TERMINAL__PLATFORM__URL": server.url,
        "QR_TERMINAL__COUNTER__MANAGER_PIN_HASH": make_pin_hash(MANAGER_PIN),
        # A demo customer takes the phone away quickly; a shop's default is longer.
        "QR_TERMINAL__DECODER__HOLD_RELEASE_MS": "300",
        "QR_TERMINAL__SYNC__INTERVAL_SECONDS": "1",
        "QR_TERMINAL__SYNC__BACKOFF_MAX_SECONDS": "1",
        "QR_TERMINAL__SYNC__LONG_POLL_SECONDS": "2",
        **(env or {}),
    }
    config = load_config(device_file=None, env=settings).config
    files = StateFiles.from_paths(config.paths)
    staging = state_dir.parent / f".{state_dir.name}-staging"
    write_identity(files, staging, key, True, enrollment, server.url, time.time_ns() // 10**6)
    return config, files


# The fakes a laptop runs on: recording feedback, escpos's Dummy printer.
FAKE_DEVICES = {"QR_TERMINAL_FEEDBACK": "record", "QR_TERMINAL_PRINTER": "dummy"}


def open_world(workdir: Path, *, headless: bool, interactive: bool = False) -> World:
    """Starts the simulator, enrolls a fresh device in `workdir`, and builds the app."""
    server = PlatformServer(workdir / "platform").start()
    try:
        frames = workdir / "frames"
        config, files = enroll_device(
            server, workdir / "terminal", env={"QR_TERMINAL__PATHS__SCREENS_DIR": str(frames)}
        )
        display = display_backend(headless, dict(os.environ))
        devices = {
            "QR_TERMINAL_DISPLAY": display,
            "QR_TERMINAL_INPUT": "window" if interactive else "script",
            **FAKE_DEVICES,
        }
        if display == "window":
            devices["DISPLAY"] = os.environ["DISPLAY"]
        camera = LiveCamera(fps=20)
        app = build_app(config, devices, camera=camera)
        wallet = Wallet.open(InProcessLink(server), 5_000_000)
    except BaseException:
        server.stop()
        raise
    return World(server, app, camera, wallet, config, files, frames)
