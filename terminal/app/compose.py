"""The composition root: configuration → adapters (through terminal/hw/factory.py), the ledger,
the device key and the sync → the App; and `qr-terminal run`'s life from start to SIGTERM."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path

from terminal.app.errors import AppError
from terminal.app.lock import StateLock
from terminal.app.loop import App, Parts, wall_ms


def build_app(
    config,
    env: Mapping[str, str] | None = None,
    *,
    root: Path | None = None,
    camera=None,
    platform: bool = True,
) -> App:
    """The app from configuration: devices from the factory, the ledger and the device key from
    the state directory, the sync when the device is enrolled (and `platform`)."""
    from terminal.hw.device import DeviceUnavailable
    from terminal.hw.factory import (
        open_camera,
        open_display,
        open_feedback,
        open_input,
        open_printer,
    )
    from terminal.ledger.errors import LedgerError
    from terminal.ledger.store import Ledger
    from terminal.signing import DeviceKey, KeyFileError
    from terminal.sync.assembly import SyncFiles, build_worker, client_for
    from terminal.sync.keys import KeyCache

    env = dict(os.environ if env is None else env)
    files = SyncFiles.from_config(config, root)
    state = files.state
    if not state.key.is_file():
        raise AppError(f"{state.key}: no device key; provision the device (qr-terminal provision)")
    lock = StateLock.take(state.state_dir)
    try:
        key = DeviceKey.load(state.key)
        ledger = Ledger(state.database, key, config.device.id)
    except (KeyFileError, LedgerError, OSError) as error:
        lock.close()
        raise AppError(f"cannot open the device's key or ledger: {error}") from None
    opened: list = [lock, ledger]
    try:
        enrolled = platform and state.cert.is_file() and state.platform_ca.is_file()
        sync = build_worker(config, ledger, files=files) if enrolled else None
        clock = sync.trusted if sync is not None else _untrusted_clock(ledger)
        keys = sync.keys if sync is not None else KeyCache(state.platform_keys)
        display = open_display(config, env)
        opened.append(display)
        keys_in = open_input(config, display, env)
        opened.append(keys_in)
        parts = Parts(
            config=config,
            state_dir=state.state_dir,
            ledger=ledger,
            device_key=key,
            display=display,
            keys=keys_in,
            feedback=open_feedback(config, env),
            camera=camera or open_camera(config.camera, config.paths, env=env),
            printer=open_printer(config, env),
            sync=sync,
            clock=clock,
            platform_keys=keys,
            # An answer to the app's own calls wakes a sync that thought it was offline.
            client_factory=(
                (lambda: client_for(config, files, on_contact=sync.network_seen))
                if enrolled
                else None
            ),
            env=env,
            lock=lock,
        )
    except (DeviceUnavailable, OSError) as error:
        for thing in reversed(opened):
            thing.close()
        raise AppError(str(error)) from None
    return App(parts)


def _untrusted_clock(ledger):
    """Without the platform: NTP alone can make the clock trusted (terminal/sync/trusted_time)."""
    from terminal.sync.trusted_time import TrustedClock

    clock = TrustedClock(
        wall_ms=wall_ms,
        monotonic=time.monotonic,
        last_trusted_ms=ledger.last_trusted_ms(),
        note_trusted=ledger.note_trusted_time,
    )
    clock.refresh_trust()
    return clock


def run_app(app: App, seconds: float | None = None) -> int:
    """`qr-terminal run`: the loop until SIGTERM/SIGINT (or `seconds`), then a clean shutdown."""
    previous = {
        sig: signal.signal(sig, app.request_stop) for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        with contextlib.suppress(TimeoutError):
            app.run(timeout=seconds)
    finally:
        app.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
