"""Keys for tests, generated once per run (P-256 generation is fast, but tests use many)."""

from __future__ import annotations

from functools import cache

from terminal.signing import DeviceKey, PlatformKeys


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


def device_check(kid: str, message: bytes, signature: bytes) -> bool:
    """The app's view: knows the device keys of the merchants it can pay."""
    keys = {device_key().kid: device_key()}
    return keys[kid].verify(message, signature)
