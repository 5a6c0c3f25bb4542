"""The session loop: hardware and I/O threads only post events to the session's queue; the loop
on the calling thread turns each event into a new state and commands (terminal/core/session),
carries the commands out (terminal/app/effects.py) and draws the screen. SIGTERM stops the loop
between two events, so a commit in progress finishes and nothing is half-written. `health()` and
sd_notify (READY=1, WATCHDOG=1, STOPPING=1 on $NOTIFY_SOCKET) let systemd watch it.

Scripts and tests drive it with `post`/`press`, watch `observers` (each event, the state and
the commands) and the display's frames, and run it with `run(until=..., timeout=...)`.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from terminal.app.effects import Effects
from terminal.app.errors import AppError
from terminal.app.notify import Health, Notifier
from terminal.app.pin_lock_file import PinLockFile
from terminal.app.settings import session_config, theme_for
from terminal.app.stand import StandArrived, StandRecorder
from terminal.app.support import OfflineDecision, OnSessionThread, RefundApproved
from terminal.config.merchant import barcode_for, rates_for
from terminal.core.keys import KeyEvent, parse_key
from terminal.core.session import initial_state, pinlock, step
from terminal.core.session.events import (
    ClockTrust,
    DayLoaded,
    DeviceTrouble,
    Scanned,
    StandPayments,
    SyncStatus,
    Tick,
)
from terminal.core.session.model import Home, State
from terminal.hw.camera import CameraError
from terminal.hw.feedback import Signal
from terminal.ledger.reader import read_records, read_since_last_close
from terminal.scan.worker import ScanEvent, ScanWorker
from terminal.ui.screens import render

log = logging.getLogger(__name__)

TICK_SECONDS = 0.25  # timers (approved screen, QR expiry) are checked this often
POLL_SECONDS = 0.01  # the loop wakes this often to poll key input that cannot post
STATUS_SECONDS = 0.5  # sync status and device trouble are looked at this often
CLOSE_CHECK_SECONDS = 5.0  # the day-close timer's request file is looked for this often
STALL_SECONDS = 5.0  # a loop that has not turned for this long is unhealthy
TOUCH_INPUTS = ("touch", "window")
CLOSE_REQUEST = "requests/close-day"  # terminal/provision/maintenance.py leaves it for us


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
        # Wrong PINs and a running PIN lock outlive a restart (terminal/app/pin_lock_file.py).
        self.pin_lock = PinLockFile(parts.state_dir)
        session = session_config(config)
        self.state: State = initial_state(session, self.pin_lock.load(session), mono_ms())
        # Touch panels and the desktop window get an on-screen keypad (taps, clicks).
        touch = getattr(parts.keys, "name", "") in TOUCH_INPUTS
        self.theme = replace(theme_for(config), keypad=touch)
        self.size = parts.display.layout.canvas
        self.observers: list[Callable[[object, State, list], None]] = []
        self.frames_shown = 0
        decoder = config.decoder
        self.scan = ScanWorker(
            parts.camera,
            Pipeline(decoder.backends, decoder.formats, payment_barcode=barcode_for(config)),
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
            self.stand = StandRecorder(
                parts.ledger, parts.clock, feed, lambda: read_records(parts.ledger.path)
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
        today = since_last_close(read_since_last_close(self.parts.ledger.path))
        self._handle(DayLoaded(today, wall_ms()))
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
            events.append(Tick(wall_ms(), mono_ms()))
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
        self.pin_lock.keep(pinlock.saved(self.state.ctx))  # before any effect: a power cut
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
        self._handle(DayLoaded((), wall_ms()))

    # --- health ----------------------------------------------------------------------------

    def health(self) -> Health:
        """For the systemd watchdog: the loop turns, the sync thread lives, the scan worker lives
        or says why not."""
        age = time.monotonic() - self._heartbeat
        problems = []
        if age > STALL_SECONDS:
            problems.append(f"the session loop has not turned for {age:.1f} s")
        error = self.scan.stats().last_error
        if error:
            problems.append(f"camera: {error}")
        # A dead or stuck sync thread leaves every sale unsent: a restart cures it, as it does a
        # stalled loop (SyncWorker.trouble(); a test's sync stand-in without it says nothing).
        # A broken camera is shown, not restarted for.
        sync_trouble = getattr(self.parts.sync, "trouble", lambda: None)()
        if sync_trouble:
            problems.append(f"sync: {sync_trouble}")
        return Health(age <= STALL_SECONDS and not sync_trouble, age, tuple(problems))

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


def wall_ms() -> int:
    """Wall-clock milliseconds: the time the session's events carry."""
    return time.time_ns() // 1_000_000


def mono_ms() -> int:
    """Monotonic milliseconds (CLOCK_MONOTONIC: NTP slews it, never steps it; it restarts at
    boot): what the session measures the PIN lock with."""
    return time.monotonic_ns() // 1_000_000
