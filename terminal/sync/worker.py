"""The sync thread: drains the outbox, keeps platform keys, time and configuration fresh, and
publishes a status snapshot. It waits with capped, jittered backoff after failures, and comes
back at once when the network does (a connectivity probe while offline, or any answer the
app's own calls get)."""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from terminal.config.loader import ConfigError
from terminal.ledger.errors import LedgerError
from terminal.ledger.health import DatabaseUnreadable, check_database
from terminal.signing import JwsError
from terminal.sync.backoff import Backoff, SystemClock
from terminal.sync.client import PlatformClient
from terminal.sync.errors import PlatformUnreachable, RetryLater, ServerUntrusted, SyncError
from terminal.sync.keys import KeyCache
from terminal.sync.parked import ParkedList
from terminal.sync.pushed_config import ConfigHolder
from terminal.sync.stand import StandFeed
from terminal.sync.status import StatusBoard
from terminal.sync.trusted_time import TrustedClock, new_nonce, verify_signed_time
from terminal.sync.upload import DrainReport, Uploader

THREAD_NAME = "sync"
# How long past its planned wake-up (or its last uploaded batch) the sync thread may go without
# turning before health() calls it stuck: well beyond a pass's few bounded requests.
STUCK_SECONDS = 300.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncSettings:
    interval_seconds: float = 15.0  # idle wait between passes (a new sale wakes it earlier)
    batch_size: int = 50
    batch_bytes: int = 256 * 1024
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    probe_seconds: float = 2.0  # while offline: how often to check if the network is back
    config_seconds: float = 300.0
    time_seconds: float = 600.0

    @classmethod
    def from_config(cls, sync) -> SyncSettings:
        """From the [sync] section of the terminal's configuration."""
        return cls(
            interval_seconds=sync.interval_seconds,
            batch_size=sync.batch_size,
            backoff_initial_seconds=sync.backoff_initial_seconds,
            backoff_max_seconds=sync.backoff_max_seconds,
        )


def tcp_probe(base_url: str, timeout: float = 1.0) -> Callable[[], bool]:
    """True when the platform's port accepts a TCP connection (cheap: no TLS, no request)."""
    parts = urlsplit(base_url)
    address = (parts.hostname or "127.0.0.1", parts.port or 443)

    def probe() -> bool:
        try:
            with socket.create_connection(address, timeout=timeout):
                return True
        except OSError:
            return False

    return probe


def parked_in_database(ledger) -> int:
    """Records the platform refused, read with the ledger's read-only health check (a separate
    read-only connection: safe beside the running ledger)."""
    path = getattr(ledger, "path", None)
    if path is None:
        return 0
    try:
        return check_database(path).parked
    except DatabaseUnreadable:
        return 0


class SyncWorker:
    """Owns its PlatformClient (one thread, one Session). The ledger must allow this thread."""

    def __init__(
        self,
        ledger,
        client: PlatformClient,
        *,
        device_id: str,
        settings: SyncSettings | None = None,
        clock=None,
        rng: random.Random | None = None,
        status: StatusBoard | None = None,
        parked: ParkedList | None = None,
        keys: KeyCache | None = None,
        trusted: TrustedClock | None = None,
        config: ConfigHolder | None = None,
        probe: Callable[[], bool] | None = None,
        stand: StandFeed | None = None,
    ):
        self.ledger, self.client, self.device_id = ledger, client, device_id
        self.settings = settings or SyncSettings()
        self.clock = clock or SystemClock()
        self.backoff = Backoff(
            self.settings.backoff_initial_seconds, self.settings.backoff_max_seconds, rng
        )
        self.status = status or StatusBoard()
        self.parked = parked or ParkedList(None)
        self.keys, self.trusted, self.config = keys, trusted, config
        self.stand = stand or StandFeed(None)  # the app sets its `deliver`
        self.probe = probe if probe is not None else tcp_probe(client.base)
        self.uploader = Uploader(
            ledger,
            client,
            self.clock.wall_ms,
            batch_size=self.settings.batch_size,
            batch_bytes=self.settings.batch_bytes,
        )
        if client.on_contact is None:
            client.on_contact = self.network_seen
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._due: dict[str, float] = {}
        self._reclaim = False  # a pass failed: rows it claimed may be left 'sending'
        self._last_failure: str | None = None  # the kind already logged with its traceback
        self.last_turn: float | None = None  # clock.monotonic() when the thread last moved on
        self._turn_due = float("inf")  # when it should have moved on again at the latest
        self.uploader.on_batch = self._turned
        self._parked_before = parked_in_database(ledger)
        self.status.update(parked=self.parked_count())

    # --- thread control --------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the sync worker is already running")
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Asks the thread to finish its current request (bounded by the timeouts) and stop."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        """Something to send (a new sale): drain now instead of after the idle interval."""
        self._wake.set()

    def network_seen(self, reached: bool) -> None:
        """Any client's call got (or did not get) an answer. Coming back online wakes us."""
        if reached:
            self.status.update(last_contact_ms=self.clock.wall_ms())
            if not self.status.current.online:
                self._wake.set()

    def alive(self) -> bool:
        """The thread was started and has not ended."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def trouble(self) -> str | None:
        """Why the sync thread needs a restart, for the app's health(): it has ended, or it
        has not moved on for STUCK_SECONDS past its planned wake-up. None when well (or not
        started, or stopping)."""
        thread = self._thread
        if thread is None or self._stop.is_set():
            return None
        if not thread.is_alive():
            return "the sync thread has stopped: sales are not being sent"
        now = self.clock.monotonic()
        if now > self._turn_due and self.last_turn is not None:
            return f"the sync thread has not moved on for {now - self.last_turn:.0f} s"
        return None

    def _turned(self, then_within: float = 0.0) -> None:
        """Heartbeat: the thread moved on and will again within `then_within` seconds."""
        self.last_turn = self.clock.monotonic()
        self._turn_due = self.last_turn + then_within + STUCK_SECONDS

    def _run(self) -> None:
        """Passes until stopped. Nothing a pass raises ends the thread: a failure is logged,
        shown, and followed by a backoff, and the handlers themselves do no I/O that can
        raise (the status board never raises)."""
        while not self._stop.is_set():
            self._turned()
            try:
                delay, watch = self.cycle()
            except Exception as error:
                delay, watch = self._pass_failed(error), False
            if self._stop.is_set():
                break
            self._turned(delay)
            self._rest(delay, watch)

    def _pass_failed(self, error: Exception) -> float:
        """After an unexpected failure (a bug, a disk that refuses writes): log it once per
        kind, show it, and back off. Never raises."""
        self._reclaim = True
        delay = self.backoff.next_delay()
        try:
            kind = f"{type(error).__name__}: {error}"
            if kind != self._last_failure:  # a disk that stays full: one traceback, not many
                self._last_failure = kind
                log.exception("sync pass failed (retrying with backoff)")
            else:
                log.debug("sync pass failed again: %s", kind)
            self.status.update(problem=f"internal error: {kind}")
        except Exception:  # the handler's own failure must not end the thread either
            with contextlib.suppress(Exception):
                log.error("sync pass failure could not be reported", exc_info=True)
        return delay

    def _recovered(self) -> None:
        if self._last_failure is not None:
            log.info("sync pass succeeded again after: %s", self._last_failure)
            self._last_failure = None

    def _rest(self, delay: float, watch: bool) -> None:
        """`_wait`, guarded: a failing wait (a probe's bug) still waits `delay` on the clock."""
        try:
            self._wait(delay, watch)
        except Exception:
            with contextlib.suppress(Exception):
                log.exception("sync wait failed")
            self.clock.wait(self._wake, delay)
            self._wake.clear()

    def _wait(self, delay: float, watch: bool) -> None:
        """Waits `delay`; when watching, probes the network every probe_seconds and returns as
        soon as it answers (the backoff restarts from its first step)."""
        remaining = delay
        while remaining > 0 and not self._stop.is_set():
            step = min(self.settings.probe_seconds, remaining) if watch else remaining
            if self.clock.wait(self._wake, step):
                break
            remaining -= step
            if watch and remaining > 0 and self.probe():
                self.backoff.reset()
                break
        self._wake.clear()

    # --- one pass --------------------------------------------------------------------------

    def cycle(self) -> tuple[float, bool]:
        """Drain, then upkeep. Returns (seconds to wait, whether to watch for the network
        coming back meanwhile)."""
        if self.trusted is not None:
            with contextlib.suppress(LedgerError):
                self.trusted.refresh_trust()  # NTP may have synced without the platform
        try:
            if self._reclaim:
                # A failed pass (a full disk refusing a settle) can leave claimed rows
                # 'sending'; only this thread claims, so between passes none is in flight.
                self.ledger.reclaim_stuck()
                self._reclaim = False
            try:
                self.uploader.drain()
            finally:
                self.parked.add(self.uploader.totals.reasons, self.clock.wall_ms())
            problem = self._upkeep()
        except PlatformUnreachable as error:
            self._failed(error, online=False)
            # Watch for the network only when it was the network that failed: a server that
            # accepts connections and then fails (or shows another CA's certificate) is left
            # to the backoff, not retried every time a probe connects.
            watch = error.no_connection and not isinstance(error, ServerUntrusted)
            return self.backoff.next_delay(error.retry_after), watch
        except RetryLater as error:
            self._failed(error, online=True)
            return self.backoff.next_delay(error.retry_after), False
        except SyncError as error:  # show: identity refused, etc. Records stay queued.
            self._failed(error, online=True)
            return self.backoff.next_delay(), False
        except LedgerError as error:
            self._reclaim = True
            self.status.update(problem=f"ledger: {error}")  # never raises (StatusBoard)
            return self.backoff.next_delay(), False
        self.backoff.reset()
        self._recovered()
        now = self.clock.wall_ms()
        self._publish(
            online=True,
            last_success_ms=now,
            last_contact_ms=now,
            problem=problem,
            server_untrusted=False,
        )
        return self.settings.interval_seconds, False

    def run_once(self) -> DrainReport:
        """One drain and upkeep now, in the caller's thread; raises the SyncError that stopped
        it (for `qr-terminal sync once`)."""
        try:
            report = self.uploader.drain()
        finally:
            self.parked.add(self.uploader.totals.reasons, self.clock.wall_ms())
        problem = self._upkeep()
        self._publish(online=True, last_success_ms=self.clock.wall_ms(), problem=problem)
        return report

    def parked_count(self) -> int:
        """Parked records: those in the journal when we started, plus those parked since."""
        return self._parked_before + len(self.uploader.totals.reasons)

    @property
    def totals(self) -> DrainReport:
        return self.uploader.totals

    def _failed(self, error: SyncError, *, online: bool) -> None:
        self._publish(
            online=online,
            problem=f"{type(error).__name__}: {error}",
            server_untrusted=isinstance(error, ServerUntrusted),
        )

    def _publish(self, **changes) -> None:
        with contextlib.suppress(LedgerError):
            depth, oldest = self.ledger.queue()
            changes.update(queue_depth=depth, oldest_pending_ms=oldest)
        if self.trusted is not None:
            changes["clock_trusted"] = self.trusted.state().trusted
        if self.config is not None:
            version = self.config.version
            changes["config_version"] = None if version is None else str(version)
        changes["parked"] = self.parked_count()
        self.status.update(**changes)

    # --- upkeep: keys, time, configuration ---------------------------------------------------

    def _is_due(self, name: str, every: float) -> bool:
        now = self.clock.monotonic()
        if now < self._due.get(name, 0.0):
            return False
        self._due[name] = now + every
        return True

    def _upkeep(self) -> str | None:
        """Keys, time, configuration when due, and payments to the printed stand at every
        pass; returns the first problem for the operator."""
        problems = [self.check_stand()]
        if self.keys is not None:
            self.keys.refresh(self.client.keys, self.clock.monotonic())
        if self.trusted is not None and self._is_due("time", self.settings.time_seconds):
            problems.append(self.check_time())
        if self.config is not None and self._is_due("config", self.settings.config_seconds):
            problems.append(self.check_config())
        return next((p for p in problems if p), None)

    def check_time(self) -> str | None:
        """Asks the platform for signed time; a verified answer feeds the trusted clock. A
        signature by a key we do not know yet (rotation) fetches the keys once, rate-limited."""
        nonce = new_nonce()
        sent = self.clock.monotonic()
        answer = self.client.signed_time(nonce)
        received = self.clock.monotonic()
        for attempt in (1, 2):
            keys = self.keys.keys if self.keys is not None else {}
            try:
                platform_ms = verify_signed_time(
                    answer, nonce=nonce, device_id=self.device_id, keys=keys
                )
            except JwsError as error:
                unknown = "unknown key" in str(error) and self.keys is not None
                if unknown and attempt == 1:
                    self.keys.unknown_wanted = True
                    if self.keys.refresh(self.client.keys, self.clock.monotonic()):
                        continue
                return f"signed time not trusted: {error}"
            except SyncError as error:
                return f"signed time not trusted: {error}"
            self.trusted.record_platform_time(platform_ms, sent, received)
            return None
        return "signed time not trusted: unknown key after a refresh"

    def unknown_key(self, kid: str) -> bool:
        """The app met a code signed by a key we lack: fetch the keys soon (rate-limited by
        the KeyCache). True when a fetch is coming now (online and not rate-limited), so the
        caller may wait for `keys.generation` to change before its refusal is final."""
        if self.keys is None or kid in self.keys.keys:
            return False
        self.keys.note_unknown(kid)
        self.wake()
        return self.status.current.online and self.keys.due(self.clock.monotonic())

    def check_stand(self) -> str | None:
        """Payments to the printed stand since the cursor, handed to the app. A platform that
        refuses the request for good (an older one without the route) is a problem to show,
        not a reason to stop draining the outbox."""
        try:
            self.stand.fetch(self.client)
        except RetryLater:
            raise
        except SyncError as error:
            return f"stand payments: {type(error).__name__}: {error}"
        return None

    def check_config(self) -> str | None:
        etag, pushed = self.client.config(self.config.etag)
        if pushed is None:
            return None
        try:
            self.config.stage(pushed, etag)
        except ConfigError as error:
            # Keep the last good configuration; the operator sees why the new one was refused.
            self.config.last_problem = str(error).splitlines()[0]
            return f"pushed configuration refused: {self.config.last_problem}"
        return None
