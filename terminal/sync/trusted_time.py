"""Is the wall clock trustworthy enough to accept payments offline? A Pi has no real-time clock:
after a power cut it may boot at a stale time. Two witnesses: systemd's NTP state
(`timedatectl show`, else the kernel's adjtimex) and the platform's signed time, verified with
the platform keys. Their verdict feeds the core's ClockState and the ledger's trusted-time mark.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import secrets
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from terminal.core.offline import ClockState
from terminal.signing import JwsError, jws_verify
from terminal.sync.errors import UntrustedAnswer

TOLERANCE_MS = 5_000  # local clock vs platform time, beyond the round trip's uncertainty
NTP_RECHECK_SECONDS = 60.0
NOTE_EVERY_MS = 10 * 60_000  # the ledger's trusted-time mark: an SD card write, not every pass
TIME_ERROR = 5  # adjtimex's return value when the kernel clock is not synchronised


def timedatectl_synchronized(run=subprocess.run) -> bool | None:
    """systemd's view (`NTPSynchronized`); None when timedatectl cannot say (no systemd)."""
    try:
        done = run(
            ["timedatectl", "show", "--property=NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    answer = done.stdout.strip().lower()
    if done.returncode != 0 or answer not in ("yes", "no"):
        return None
    return answer == "yes"


def adjtimex_synchronized() -> bool | None:
    """The kernel's view: adjtimex with modes = 0 only reads; TIME_ERROR means unsynchronised."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    # struct timex is ~208 bytes on 64-bit Linux; a zeroed larger buffer means modes = 0.
    buffer = ctypes.create_string_buffer(512)
    state = libc.adjtimex(buffer)
    if state < 0:
        return None
    return state != TIME_ERROR


def ntp_synchronized() -> bool:
    verdict = timedatectl_synchronized()
    if verdict is None:
        verdict = adjtimex_synchronized()
    return bool(verdict)


@dataclass(frozen=True)
class PlatformTime:
    """A verified platform time and when (monotonic) we received it, with its uncertainty."""

    platform_ms: int
    received_monotonic: float
    uncertainty_ms: int

    def now_ms(self, monotonic: float) -> int:
        return self.platform_ms + int((monotonic - self.received_monotonic) * 1000)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def verify_signed_time(answer: Mapping, *, nonce: str, device_id: str, keys: Mapping) -> int:
    """The platform's time from a /v1/time answer, or UntrustedAnswer (signature, nonce,
    device or time disagree). JwsError's unknown-key case is raised as is for a key refresh."""
    try:
        _, payload = jws_verify(answer["jws"], keys)
        signed = json.loads(payload)
    except JwsError:
        raise
    except (KeyError, ValueError) as error:
        raise UntrustedAnswer(f"signed time is malformed: {error}") from None
    if not isinstance(signed, dict):
        raise UntrustedAnswer("signed time payload is not an object")
    if signed.get("nonce") != nonce:
        raise UntrustedAnswer("signed time answers another nonce (replayed?)")
    if signed.get("device_id") != device_id:
        raise UntrustedAnswer(f"signed time is for device {signed.get('device_id')!r}")
    if signed.get("time_ms") != answer.get("time_ms") or not isinstance(signed["time_ms"], int):
        raise UntrustedAnswer("signed time differs from the time in the answer")
    return signed["time_ms"]


class TrustedClock:
    """Answers ClockState for the app (cheap: no I/O on the hot path) and records trusted
    time in the ledger. `state()` reads only cached verdicts; the sync thread refreshes them."""

    def __init__(
        self,
        *,
        wall_ms: Callable[[], int],
        monotonic: Callable[[], float],
        last_trusted_ms: int,
        note_trusted: Callable[[int], None],
        ntp: Callable[[], bool] = ntp_synchronized,
        tolerance_ms: int = TOLERANCE_MS,
    ):
        self.wall_ms, self.monotonic = wall_ms, monotonic
        self.last_trusted_ms = last_trusted_ms
        self.note_trusted = note_trusted
        self.ntp, self.tolerance_ms = ntp, tolerance_ms
        self.platform: PlatformTime | None = None
        self.synced_at_ms = 0  # local wall time of this boot's latest trusted synchronisation
        self._ntp_checked: float | None = None
        self.ntp_verdict = False

    def record_platform_time(self, platform_ms: int, sent: float, received: float) -> None:
        """A verified platform time; `sent`/`received` are the monotonic ends of the call."""
        middle = (sent + received) / 2
        uncertainty = int((received - sent) * 500) + 1
        self.platform = PlatformTime(platform_ms, middle, uncertainty)
        self.refresh_trust()

    def check_ntp(self) -> bool:
        """Asks systemd/the kernel again (a subprocess: the sync thread does this, never the
        app's hot path); at most once a minute."""
        now = self.monotonic()
        if self._ntp_checked is None or now - self._ntp_checked >= NTP_RECHECK_SECONDS:
            self._ntp_checked, self.ntp_verdict = now, bool(self.ntp())
        return self.ntp_verdict

    def skew_ms(self) -> int | None:
        """Local minus platform time, when a platform time is known."""
        if self.platform is None:
            return None
        monotonic = self.monotonic()
        return self.wall_ms() - self.platform.now_ms(monotonic)

    def synced(self) -> bool:
        """Trusted now: the platform's signed time agrees with our clock, or NTP is synced and
        no platform time contradicts it (a contradiction wins: the clock may have been set)."""
        skew = self.skew_ms()
        if skew is not None:
            return abs(skew) <= self.tolerance_ms + self.platform.uncertainty_ms
        return self.ntp_verdict

    def refresh_trust(self) -> bool:
        """Re-asks NTP; when the clock is trusted, marks this moment as the latest
        synchronisation (and writes it to the ledger). Returns the verdict. Sync thread."""
        self.check_ntp()
        trusted = self.synced()
        if trusted:
            now = self.wall_ms()
            self.synced_at_ms = max(self.synced_at_ms, now)
            if now >= self.last_trusted_ms + NOTE_EVERY_MS or self.last_trusted_ms == 0:
                self.note_trusted(now)
                self.last_trusted_ms = now
        return trusted

    def contradicted(self) -> bool:
        """A verified platform time disagrees with our clock beyond the tolerance."""
        skew = self.skew_ms()
        return skew is not None and abs(skew) > self.tolerance_ms + self.platform.uncertainty_ms

    def state(self) -> ClockState:
        """For the offline rules: synchronised in this boot (and not contradicted since), and
        when. The core decides how long one synchronisation stays good."""
        synced = self.synced_at_ms > 0 and not self.contradicted()
        return ClockState(
            now_ms=self.wall_ms(),
            synced_since_boot=synced,
            last_trusted_ms=self.synced_at_ms if synced else 0,
        )
