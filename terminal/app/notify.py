"""What the service layer watches: the app's health, and sd_notify to systemd over
$NOTIFY_SOCKET (READY=1 once the first screen is drawn, WATCHDOG=1 while the loop turns,
STOPPING=1 at shutdown), written with the socket module."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    ok: bool
    loop_age_seconds: float
    problems: tuple[str, ...] = ()


class Notifier:
    """sd_notify over $NOTIFY_SOCKET (a datagram to systemd); nothing when it is unset."""

    def __init__(self, address: str | None, watchdog_usec: int | None):
        self.address = address
        self.interval = (watchdog_usec / 2e6) if watchdog_usec else 5.0
        self._last = 0.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Notifier:
        usec = env.get("WATCHDOG_USEC", "")
        return cls(env.get("NOTIFY_SOCKET") or None, int(usec) if usec.isdigit() else None)

    def send(self, message: str) -> bool:
        if not self.address:
            return False
        address = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            try:
                sock.sendto(message.encode(), address)
            except OSError as error:
                log.warning("sd_notify %s: %s", message, error)
                return False
        return True

    def watchdog(self, health: Callable[[], Health]) -> None:
        """WATCHDOG=1 at half the watchdog interval, only while healthy."""
        now = time.monotonic()
        if self.address and now - self._last >= self.interval and health().ok:
            self._last = now
            self.send("WATCHDOG=1")
