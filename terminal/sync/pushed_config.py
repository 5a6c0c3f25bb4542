"""Configuration pushed by the platform (merchant, rates, offline limits, QR expiry): validated
by the same functions as a local file, staged by the sync thread, put in force by the app
between sales, kept on disk as the last good one, and its version exposed for the records."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from terminal.config.loader import ConfigError, cross_check, validate_layer
from terminal.config.schema import SECTIONS, Config, keys_of
from terminal.sync.files import WriteFailures, save_quietly

# What the platform may set (openapi.yaml Config); never paths, hardware or the device id.
PUSHED_SECTIONS = frozenset({"merchant", "benefits", "offline", "qr"})
META_KEYS = frozenset({"version", "issuer"})


def build_config(base: Config, pushed: Mapping[str, Any], origin: str) -> tuple[int, Config]:
    """(version, the config in force with `pushed` over `base`); ConfigError lists every
    problem, exactly as a broken local file would."""
    problems: list[str] = []
    version = pushed.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        problems.append(f"{origin}: version = {version!r} must be a whole number ≥ 1")
    issuer = pushed.get("issuer")
    if issuer != base.issuer.id:
        problems.append(
            f"{origin}: issuer = {issuer!r} is not this terminal's issuer {base.issuer.id!r}"
        )
    unknown = sorted(set(pushed) - PUSHED_SECTIONS - META_KEYS)
    if unknown:
        problems.append(
            f"{origin}: cannot set {', '.join(unknown)}; "
            f"a pushed configuration may set: {', '.join(sorted(PUSHED_SECTIONS))}"
        )
    layer = {name: pushed[name] for name in PUSHED_SECTIONS if name in pushed}
    values, layer_problems = validate_layer(layer, origin, PUSHED_SECTIONS)
    # Like any configuration layer it may leave keys out (the local value stays): the merchant
    # section has local-only keys (receipt facts) the protocol's Merchant does not carry.
    problems += layer_problems
    if problems:
        raise ConfigError(problems)
    merged = flatten(base)
    origins = {key: "local" for key in merged}
    for key, value in values.items():
        merged[key], origins[key] = value, origin
    problems = cross_check(merged, origins)
    if problems:
        raise ConfigError(problems)
    return version, unflatten(merged)


def flatten(config: Config) -> dict[tuple[str, str], Any]:
    flat = {}
    for section in SECTIONS:
        part = getattr(config, section)
        for key in keys_of(section):
            value = getattr(part, key)
            flat[(section, key)] = list(value) if isinstance(value, tuple) else value
    return flat


def unflatten(flat: Mapping[tuple[str, str], Any]) -> Config:
    def frozen(value):
        return tuple(value) if isinstance(value, list) else value

    return Config(
        **{
            name: kind(**{k: frozen(flat[(name, k)]) for k in keys_of(name)})
            for name, kind in SECTIONS.items()
        }
    )


@dataclasses.dataclass(frozen=True)
class InForce:
    """One consistent view for one sale: the configuration and the version it came from."""

    config: Config
    version: int | None  # None: local configuration only, nothing pushed yet


class ConfigHolder:
    """The sync thread `stage`s a validated configuration; the app calls `for_sale()` at the
    start of each sale, which puts a staged one in force first. A sale therefore never sees
    two configurations, and a bad push never replaces a good one."""

    def __init__(self, base: Config, path: Path | None = None):
        self.base = base
        self.path = path
        self.in_force = InForce(base, None)
        self.etag: str | None = None
        self._staged: InForce | None = None
        self._lock = threading.Lock()  # stage (sync thread) vs for_sale (app thread)
        self.last_problem: str | None = None
        self.failures = WriteFailures("pushed configuration")
        if path is not None:
            self._load_last_good(path)

    def _load_last_good(self, path: Path) -> None:
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            version, config = build_config(self.base, saved["config"], f"{path}")
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError, ConfigError) as error:
            # The local configuration may have changed (another issuer); keep local values.
            self.last_problem = f"{path}: ignored ({str(error).splitlines()[0]})"
            return
        self.in_force = InForce(config, version)
        self.etag = saved.get("etag")

    @property
    def version(self) -> int | None:
        """The version the next sale will use (a staged one counts: it is already accepted)."""
        staged = self._staged
        return staged.version if staged else self.in_force.version

    def stage(self, pushed: Mapping[str, Any], etag: str | None) -> int:
        """Validates a pushed configuration; keeps it on disk and waits for the next sale.
        ConfigError (with every problem) leaves everything as it was."""
        version, config = build_config(self.base, pushed, f"platform config {etag or ''}".strip())
        current = self.version
        if current is not None and version < current:
            raise ConfigError([f"platform config version {version} is older than {current}"])
        if self.path is not None:
            # Best effort: on a full or read-only disk the push still comes into force; only
            # the next start falls back to the last one saved (and fetches this one again).
            text = json.dumps({"etag": etag, "config": pushed})
            save_quietly(self.path, text, self.failures)
        with self._lock:
            self._staged = InForce(config, version)
            self.etag = etag
        self.last_problem = None
        return version

    def for_sale(self) -> InForce:
        """The configuration for the sale about to start (call once per sale, between sales)."""
        with self._lock:
            if self._staged is not None:
                self.in_force, self._staged = self._staged, None
            return self.in_force
