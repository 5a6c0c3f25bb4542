"""Keys for tests, generated once per run (P-256 generation is fast, but tests use many)."""

from __future__ import annotations

from functools import cache

from terminal.signing import BoundDeviceKeys, DeviceKey, PlatformKeys


@cache
def device_key() -> DeviceKey:
    return DeviceKey.generate()


@cache
def platform_key() -> DeviceKey:
    return DeviceKey.generate()


@cache
def other_key() -> DeviceKey:
    return DeviceKey.generate()


def platform_keys() -> PlatformKeys:
    return PlatformKeys({platform_key().kid: platform_key().public_key})


def device_check(
    merchant_id: str, terminal_id: str, kid: str, message: bytes, signature: bytes
) -> bool:
    """The app's view: knows the device keys of the merchants it can pay, each bound to the
    merchant and terminal the platform enrolled it for (see terminal.signing.BoundDeviceKeys)."""
    return bound_device_keys().check_sale(merchant_id, terminal_id, kid, message, signature)


# The merchant and terminal that device_key() is enrolled for in tests.
DEVICE_MERCHANT, DEVICE_TERMINAL = "M2024001234", "D20261122-0042"


@cache
def bound_device_keys() -> BoundDeviceKeys:
    keys = BoundDeviceKeys()
    keys.bind(DEVICE_MERCHANT, DEVICE_TERMINAL, device_key().public_key)
    return keys
