"""/etc/qr-terminal/device.toml: what provisioning knows (device, merchant, platform, paths)
written over whatever it wrote before, and every other section the technician set kept."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from terminal.config.schema import MerchantConfig

OWNED = ("device", "merchant", "platform", "paths")

# A Pi's first device file: the real camera, GPIO and display. Later runs keep what is there.
PI_HARDWARE = {
    "camera": {"backend": "picamera2", "autofocus": True},
    "gpio": {"backend": "lgpio"},
    "display": {"backend": "auto"},
}

HEADER = (
    "# Written by scripts/provision. It rewrites [device], [merchant], [platform] and [paths]\n"
    "# on every run and keeps the other sections as they are: edit those freely, then run\n"
    "# `qr-terminal config check /etc/qr-terminal/device.toml`.\n"
)


def render(
    existing: Mapping[str, Any] | None,
    *,
    device_id: str,
    serial: str,
    issuer: str,
    merchant: Mapping[str, Any],
    platform_url: str,
    state_dir: str,
    raspberry_pi: bool,
) -> str:
    known = {f.name for f in fields(MerchantConfig)}
    sections: dict[str, dict[str, Any]] = {
        "device": {"id": device_id, "serial": serial, "issuer": issuer},
        # Only what the schema knows: a newer platform's extra fields must not break loading.
        "merchant": {k: v for k, v in merchant.items() if k in known},
        "platform": {"url": platform_url},
        "paths": {"state_dir": state_dir},
    }
    kept = {k: v for k, v in (existing or {}).items() if k not in OWNED and isinstance(v, dict)}
    if existing is None and raspberry_pi:
        kept = {k: dict(v) for k, v in PI_HARDWARE.items()}
    lines = [HEADER]
    for name, table in [*sections.items(), *kept.items()]:
        lines.append(f"[{name}]")
        lines += [f"{key} = {_value(value)}" for key, value in table.items()]
        lines.append("")
    return "\n".join(lines)


def read_existing(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, tomllib.TOMLDecodeError):
        return None  # unreadable: written fresh, the broken one is kept as device.toml.bak


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")
