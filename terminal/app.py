"""The composition root: configuration → adapters (through terminal/hw/factory.py) → the scan
worker and sync worker threads → the session loop on the calling thread.

Hardware and I/O threads only post events to the session's queue; the loop turns each event
into a new state and commands (terminal/core/session), carries the commands out
(terminal/app_effects.py) and draws the screen. SIGTERM stops the loop between two events, so
a commit in progress finishes and nothing is half-written. `health()` and sd_notify
(READY=1, WATCHDOG=1, STOPPING=1 on $NOTIFY_SOCKET) let systemd watch it.

Scripts and tests drive it with `post`/`press`, watch `observers` (each event, the state and
the commands) and the display's frames, and run it with `run(until=..., timeout=...)`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from terminal import __version__
from terminal.app_effects import Effects, OfflineDecision, OnSessionThread, RefundApproved
from terminal.app_notify import Health, Notifier
from terminal.app_stand import StandArrived, StandRecorder
from terminal.config.merchant import barcode_for, rates_for
from terminal.core.keys import KeyEvent, parse_key
from terminal.core.money import AmountError, parse_won
from terminal.core.session import initial_state, step
from terminal.core.session.events import (
    ClockTrust,
    DayLoaded,
    DeviceTrouble,
    Scanned,
    StandPayments,
    SyncStatus,
    Tick,
)
from terminal.core.session.model import Home, Preset, SessionConfig, State
from terminal.hw.camera import CameraError
from terminal.hw.feedback import Signal
from terminal.scan.worker import ScanEvent, ScanWorker
from terminal.ui.paint import Theme
from terminal.ui.screens import render

log = logging.getLogger(__name__)

TICK_SECONDS = 0.25  # timers (approved screen, QR expiry) are checked this often
POLL_SECONDS = 0.01  # the loop wakes this often to poll key input that cannot post
STATUS_SECONDS = 0.5  # sync status and device trouble are looked at this often
CLOSE_CHECK_SECONDS = 5.0  # the day-close timer's request file is looked for this often
STALL_SECONDS = 5.0  # a loop that has not turned for this long is unhealthy
MAX_PRESETS = 12
TOUCH_INPUTS = ("touch", "window")
CLOSE_REQUEST = "requests/close-day"  # terminal/provision/maintenance.py leaves it for us


class AppError(Exception):
    """The app cannot start: the message says what to fix (exit code 2 at the CLI)."""


def session_config(config) -> SessionConfig:
    """What the session needs of the configuration. Raises AppError for a bad preset."""
    presets = []
    for text in config.counter.presets:
        label, _, won = text.rpartition("=")
        try:
            amount = parse_won(won)
        except AmountError:
            amount = 0
        if not label.strip() or amount <= 0:
            raise AppError(f"[counter] presets: {text!r} is not 'label=won' (e.g. '떡볶이=4000')")
        presets.append(Preset(label.strip(), amount))
    if len(presets) > MAX_PRESETS:
        raise AppError(f"[counter] presets: {len(presets)} given, at most {MAX_PRESETS} fit")
    rates = rates_for(config)
    return SessionConfig(
        brand=config.issuer.name_ko,
        merchant_name=config.merchant.name_ko,
        device_id=config.device.id,
        version=f"qr-terminal {__version__}",
        max_sale_won=config.sale.max_amount_won,
        presets=tuple(presets),
        # One rule prices a sale everywhere: the session prices with the merchant's rates.
        discount_bp=rates.merchant_discount_bp,
        rates=rates,
        barcode=barcode_for(config),
        manager_pin_sha256=config.counter.manager_pin_sha256,
        technician_pin_sha256=config.counter.technician_pin_sha256,
        receipt_prefix=config.printer.receipt_url,
        auto_print=config.counter.auto_print,
    )


def theme_for(config) -> Theme:
    issuer = config.issuer
    return Theme(
        issuer.colour_primary, issuer.colour_accent, config.display.font, config.locale.timezone
    )


@dataclass
class Parts:
    """Everything the app runs with. build_app makes them from configuration; a test may pass
    its own (fakes, a live simulated camera, a client for the real simulator)."""

    config: object
    state_dir: Path
    ledger: object
    device_key: object
    display: object
    keys: object
    feedback: object
    camera: object
    printer: object | None = None
    sync: object | None = None  # a SyncWorker, or None to run without the platform
    clock: object | None = None  # .state() -> ClockState; the sync's TrustedClock by default
    platform_keys: object | None = None  # a KeyCache
    client_factory: Callable[[], object] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    lock: object | None = None  # the StateLock that makes this the directory's only terminal


class App:
    def __init__(self, parts: Parts):
        from terminal.scan.pipeline import Pipeline

        self.parts = parts
        config = parts.config
        self.config = config
        self.queue: queue.Queue = queue.Queue()
        self.state: State = initial_state(session_config(config))
        # Touch panels and the desktop window get an on-screen keypad (taps, clicks).
        touch = getattr(parts.keys, "name", "") in TOUCH_INPUTS
        self.theme = replace(theme_for(config), keypad=touch)
        self.size = parts.display.layout.canvas
        self.observers: list[Callable[[object, State, list], None]] = []
        self.frames_shown = 0
        decoder = config.decoder
        self.scan = ScanWorker(
            parts.camera,
            Pipeline(decoder.backends, decoder.formats),
            decoder.max_fps,
            decoder.hold_release_ms,
        )
        # The scan worker posts straight into the session's queue: a code wakes the loop.
        self.scan.events = self.queue
        self.effects = Effects(
            config=config,
            ledger=parts.ledger,
            device_key=parts.device_key,
            clock=parts.clock,
            keys=parts.platform_keys,
            post=self.post,
            show=self._mark_dirty,
            feedback=parts.feedback,
            printer=parts.printer,
            client_factory=parts.client_factory,
            wake_sync=parts.sync.wake if parts.sync is not None else (lambda: None),
            # A sync stand-in without key upkeep (a test's) has nothing to fetch keys with.
            unknown_key=getattr(parts.sync, "unknown_key", lambda kid: None),
            self_test=self.self_test,
        )
        self.stand = None
        feed = getattr(parts.sync, "stand", None)
        if feed is not None:
            from terminal.app_effects import journal_records

            self.stand = StandRecorder(
                parts.ledger, parts.clock, feed, lambda: journal_records(parts.ledger.path)
            )
            # The sync thread only posts: the ledger is written on the session thread.
            feed.deliver = lambda payments: self.post(StandArrived(payments))
        self._stop = threading.Event()
        self._dirty = True
        self._heartbeat = time.monotonic()
        self._last_tick = self._last_status = self._last_close_check = 0.0
        self._seen_status: tuple | None = None
        self._camera_problem = ""
        self._camera_error = ""  # the camera would not start
        self._notify = Notifier.from_env(parts.env)
        self.started = False

    # --- driving it --------------------------------------------------------------------------

    def post(self, event) -> None:
        """Hands an event to the session (any thread)."""
        self.queue.put(event)

    def press(self, *names: str) -> None:
        """Key presses as a keypad would report them ("1", "00", "enter", "F2")."""
        for name in names:
            self.post(KeyEvent(parse_key(name), time.monotonic(), "script"))

    def request_stop(self, *_signal) -> None:
        """Stops the loop after the event in hand (a SIGTERM handler)."""
        self._stop.set()
        self.queue.put(None)  # wakes the loop

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Starts the threads and shows the first screen with today's totals."""
        from terminal.app_effects import journal_records
        from terminal.core.session.report import since_last_close

        if self.started:
            return
        self.started = True
        try:
            self.scan.start()
        except CameraError as error:
            # Without a camera the shop still takes QR payments the platform confirms.
            log.error("camera: %s", error)
            self._camera_error = str(error)
        if self.parts.sync is not None:
            self.parts.sync.start()
        today = since_last_close(journal_records(self.parts.ledger.path))
        self._handle(DayLoaded(today, _wall_ms()))
        self._publish_status(force=True)
        self._draw()
        self._notify.send("READY=1")

    def run(
        self,
        until: Callable[[State], bool] | None = None,
        timeout: float | None = None,
    ) -> State:
        """Runs the loop on this thread until request_stop (SIGTERM), `until(state)` holds, or
        `timeout` seconds pass. Starts the app if it was not started."""
        self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._stop.is_set():
            if until is not None and until(self.state):
                break
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"the app did not reach the wanted state in {timeout} s")
            self.turn(POLL_SECONDS)
        return self.state

    def turn(self, wait: float = 0.0) -> None:
        """One turn of the loop: events waiting (or arriving within `wait`), keys, scans,
        timers and status; then one frame if anything visible changed."""
        events = []
        with contextlib.suppress(queue.Empty):
            events.append(self.queue.get(timeout=wait) if wait > 0 else self.queue.get_nowait())
        now = time.monotonic()
        events += self.parts.keys.events(now)
        if now - self._last_tick >= TICK_SECONDS:
            self._last_tick = now
            events.append(Tick(_wall_ms()))
        if now - self._last_status >= STATUS_SECONDS:
            self._last_status = now
            self._publish_status()
            self._take_pushed_config()
        if now - self._last_close_check >= CLOSE_CHECK_SECONDS:
            self._last_close_check = now
            self._close_if_asked()
        for event in events:
            self._handle(event)
        # Answers posted while handling (a commit's Committed, a ChargeReady) belong to this turn.
        for _ in range(100):
            try:
                event = self.queue.get_nowait()
            except queue.Empty:
                break
            self._handle(event)
        self._draw()
        self._heartbeat = time.monotonic()
        self._notify.watchdog(self.health)

    def shutdown(self) -> None:
        """Stops every thread and closes every device; an in-flight refund at the platform is
        waited for (bounded) and recorded."""
        self._notify.send("STOPPING=1")
        self.scan.stop()
        if self.parts.sync is not None:
            self.parts.sync.stop(timeout=15)
        self.effects.close()
        while True:  # refunds the platform approved while we stopped still get recorded
            try:
                event = self.queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(event, RefundApproved):
                self._handle(event)
        for device in (
            self.parts.keys,
            self.parts.display,
            self.parts.feedback,
            self.parts.printer,
        ):
            if device is not None:
                try:
                    device.close()
                except Exception as error:  # closing must go on to the ledger whatever happens
                    log.warning("closing %s: %s", getattr(device, "name", device), error)
        self.parts.ledger.close()
        if self.parts.lock is not None:
            self.parts.lock.close()

    # --- inside the loop -------------------------------------------------------------------

    def _handle(self, event) -> None:
        if event is None:
            return
        if isinstance(event, ScanEvent):
            event = Scanned(event.code.text, event.code.format)
        if isinstance(event, KeyEvent):
            self.parts.feedback.play(Signal.KEY_CLICK)  # dropped when [feedback] key_click is off
        if isinstance(event, OfflineDecision):
            self.effects.decide_offline(event.command)
            return
        if isinstance(event, RefundApproved):
            self.effects.record_refund(event.command, event.approval)
            return
        if isinstance(event, OnSessionThread):
            event.work()
            return
        if isinstance(event, StandArrived):
            entries = self.stand.record(event.payments)
            if entries:
                self._handle(StandPayments(entries))
                self.effects.wake_sync()  # upload the new records
            return
        self.state, commands = step(self.state, event)
        for command in commands:
            self.effects.execute(command)
        for observer in self.observers:
            observer(event, self.state, commands)

    def _mark_dirty(self, _screen) -> None:
        self._dirty = True

    def _draw(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        frame = render(self.state, self.size, self.theme)
        self.parts.display.show(frame.image)
        self.parts.keys.set_targets(frame.targets)
        self.frames_shown += 1

    def _publish_status(self, force: bool = False) -> None:
        """Sync status, clock trust and camera trouble into the session, when they change."""
        sync = self.parts.sync
        current = sync.status.current if sync is not None else None
        online = bool(current and current.online)
        depth, oldest = (current.queue_depth, current.oldest_pending_ms) if current else (0, None)
        parked = current.parked if current else 0
        trusted = self.parts.clock.state().trusted
        camera = self._camera_error or self.scan.stats().last_error or ""
        if not camera and self.started and self.scan.finished.is_set():
            camera = "카메라가 멈췄습니다"
        seen = (online, depth, oldest, parked, trusted, camera)
        if seen == self._seen_status and not force:
            return
        self._seen_status = seen
        self._handle(SyncStatus(online, depth, oldest, parked))
        self._handle(ClockTrust(trusted))
        if camera != self._camera_problem or force:
            self._camera_problem = camera
            self._handle(DeviceTrouble("camera", camera))

    def _take_pushed_config(self) -> None:
        """Configuration the platform pushed (staged by the sync thread) comes into force at
        home, between sales: a sale never sees two configurations."""
        holder = getattr(self.parts.sync, "config", None)
        if holder is None or not isinstance(self.state.screen, Home):
            return
        in_force = holder.for_sale()
        config = in_force.config
        if config is self.config:
            return
        try:
            session = session_config(config)
        except AppError as error:
            log.error("pushed configuration not used: %s", error)
            return
        self.config = self.effects.config = config
        self.effects.rates = rates_for(config)
        self.parts.ledger.use_config_version(in_force.version or 0)
        self.state = replace(self.state, ctx=replace(self.state.ctx, config=session))
        self._dirty = True
        log.info("configuration version %s in force", holder.version)

    def _close_if_asked(self) -> None:
        """The day-close timer asks a running terminal through a file; close at home only."""
        request = self.parts.state_dir / CLOSE_REQUEST
        if not request.exists() or not isinstance(self.state.screen, Home):
            return
        from terminal.ledger.errors import LedgerError

        try:
            report = self.effects.close_day()
        except LedgerError as error:
            log.error("the requested day close failed: %s", error)
            return
        request.unlink(missing_ok=True)
        log.info("closed the day on request: close record %s", report.close_seq)
        self._handle(DayLoaded((), _wall_ms()))

    # --- health ----------------------------------------------------------------------------

    def health(self) -> Health:
        """For the systemd watchdog: the loop turns, the scan worker lives or says why not."""
        age = time.monotonic() - self._heartbeat
        problems = []
        if age > STALL_SECONDS:
            problems.append(f"the session loop has not turned for {age:.1f} s")
        error = self.scan.stats().last_error
        if error:
            problems.append(f"camera: {error}")
        # A stalled loop is what a restart cures; a broken camera is shown, not restarted for.
        return Health(age <= STALL_SECONDS, age, tuple(problems))

    def self_test(self) -> list[str]:
        """The technician menu's self-test: each device's own check, the link, the disk."""
        import shutil

        lines = []
        for device in (
            self.parts.display,
            self.parts.keys,
            self.parts.feedback,
            self.parts.printer,
        ):
            if device is not None:
                lines.append(device.check().line())
        stats = self.scan.stats()
        lines.append(
            f"카메라: {stats.fps:.0f} fps" + (f" ({stats.last_error})" if stats.last_error else "")
        )
        if self.parts.client_factory is not None:
            try:
                start = time.monotonic()
                self.parts.client_factory().keys()
                lines.append(f"플랫폼: 정상 {1000 * (time.monotonic() - start):.0f} ms")
            except Exception as error:
                lines.append(f"플랫폼: {type(error).__name__}")
        free = shutil.disk_usage(self.parts.state_dir).free / 1e9
        lines.append(f"디스크: 여유 {free:.1f} GB")
        return lines


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


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


class StateLock:
    """One running terminal per state directory: a second `qr-terminal run` would be a second
    writer of the ledger. An flock on `run.lock`, released by the kernel if the process dies."""

    NAME = "run.lock"

    def __init__(self, descriptor: int):
        self.descriptor = descriptor

    @classmethod
    def take(cls, state_dir: Path) -> StateLock:
        import fcntl

        path = Path(state_dir) / cls.NAME
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as error:
            raise AppError(f"{path}: cannot open the state directory's lock ({error})") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise AppError(
                f"{state_dir}: another qr-terminal is running on this state directory; stop it "
                "first (systemctl stop qr-terminal), one terminal writes one ledger"
            ) from None
        return cls(descriptor)

    def close(self) -> None:
        if self.descriptor >= 0:
            os.close(self.descriptor)  # releases the flock
            self.descriptor = -1


def _untrusted_clock(ledger):
    """Without the platform: NTP alone can make the clock trusted (terminal/sync/trusted_time)."""
    from terminal.sync.trusted_time import TrustedClock

    clock = TrustedClock(
        wall_ms=_wall_ms,
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
