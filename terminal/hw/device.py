"""What every device backend shares: the error that names the device and the fix, and the
result of a backend's check() that the self-test prints."""

from __future__ import annotations

from dataclasses import dataclass, field


class DeviceUnavailable(RuntimeError):
    """A device cannot be used: absent, busy, not permitted, or its library is not installed.

    The message names the device and the fix. Retrying without a change will not help; the app
    shows it to the technician (or falls back where the configuration allows)."""


@dataclass(frozen=True)
class DeviceCheck:
    """What a backend found when asked: which device, what it looks like, or what is wrong.

    `found` holds facts as short texts (geometry, pixel format, pins, vendor id), in the order a
    technician would read them; `problem` is None when the device is usable."""

    kind: str  # display, input, feedback, printer, camera
    backend: str
    device: str
    found: dict[str, str] = field(default_factory=dict)
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    def line(self) -> str:
        facts = ", ".join(f"{k} {v}" for k, v in self.found.items())
        state = "ok" if self.ok else f"PROBLEM: {self.problem}"
        return f"{self.kind}: {self.backend} {self.device} [{facts}] {state}".replace(" []", "")


def missing_library(device: str, module: str, install: str) -> DeviceUnavailable:
    """The one message for an optional dependency that is not installed."""
    return DeviceUnavailable(f"{device}: the Python module {module!r} is missing; {install}")
