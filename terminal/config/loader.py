"""Loads configuration: defaults → issuer → device file → environment, into frozen objects."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terminal.config.schema import (
    DEFAULT_SECTIONS,
    DEVICE_SECTIONS,
    ISSUER_SECTIONS,
    RETIRED_KEYS,
    SECTIONS,
    Config,
    check_value,
    describe,
    keys_of,
)
from terminal.core.benefits import CASHBACK, DISCOUNT
from terminal.core.tokens import BarcodeFormat, TokenError
from terminal.files import NotAFileError, read_bounded

ENV_PREFIX = "QR_TERMINAL__"
MAX_CONFIG_BYTES = 1024 * 1024  # a configuration file is a few kilobytes
ENV_DEVICE_FILE = "QR_TERMINAL_DEVICE_FILE"
ENV_CONFIG_DIR = "QR_TERMINAL_CONFIG_DIR"
SYSTEM_DEVICE_FILE = Path("/etc/qr-terminal/device.toml")


class ConfigError(Exception):
    """The configuration cannot be used; `problems` lists every reason, one line each.

    Not retryable: a person must fix a file or a variable. Nothing was half-loaded.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class LoadedConfig:
    """The effective configuration and, for each (section, key), where its value came from."""

    config: Config
    sources: Mapping[tuple[str, str], str]


def config_dir() -> Path:
    """The firmware_config directory: $QR_TERMINAL_CONFIG_DIR, else the source tree's, else the
    copy an installed wheel carries as terminal/firmware_config (see setup.py)."""
    explicit = os.environ.get(ENV_CONFIG_DIR)
    if explicit:
        return Path(explicit)
    package = Path(__file__).resolve().parents[1]
    source_tree = package.parent / "firmware_config"
    return source_tree if source_tree.is_dir() else package / "firmware_config"


def default_device_file() -> Path | None:
    """The device file provisioning wrote, if any; None means the embedded demo identity."""
    explicit = os.environ.get(ENV_DEVICE_FILE)
    if explicit:
        return Path(explicit)
    return SYSTEM_DEVICE_FILE if SYSTEM_DEVICE_FILE.exists() else None


def read_toml(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """Parses one TOML file; returns (data, []) or (None, [problem])."""
    try:
        # Bounded and regular: /dev/zero as a config file once grew to 11 GB; a fifo hung.
        text = read_bounded(path, MAX_CONFIG_BYTES, "TOML configuration file").decode("utf-8")
        return tomllib.loads(text), []
    except NotAFileError as error:
        return None, [f"{path}: {error.strerror}"]
    except FileNotFoundError:
        return None, [f"{path}: file not found"]
    except IsADirectoryError:
        return None, [f"{path}: is a directory, not a TOML file"]
    except PermissionError:
        return None, [f"{path}: cannot be read (permission denied)"]
    except UnicodeDecodeError as error:
        return None, [f"{path}: not UTF-8 text ({error.reason})"]
    except tomllib.TOMLDecodeError as error:
        return None, [f"{path}: broken TOML: {error}"]


def validate_layer(
    data: Mapping[str, Any], origin: str, allowed_sections: frozenset[str]
) -> tuple[dict[tuple[str, str], Any], list[str]]:
    """Checks one layer's sections, keys, types and ranges; returns its flat values and problems."""
    values: dict[tuple[str, str], Any] = {}
    problems: list[str] = []
    for section, table in data.items():
        if section not in SECTIONS:
            problems.append(
                f"{origin}: unknown section [{section}]; known: {', '.join(sorted(SECTIONS))}"
            )
            continue
        if section not in allowed_sections:
            problems.append(
                f"{origin}: section [{section}] cannot be set here; "
                f"this file may set: {', '.join(sorted(allowed_sections))}"
            )
            continue
        if not isinstance(table, dict):
            problems.append(f"{origin}: {section} must be a [section] table, got {table!r}")
            continue
        specs = keys_of(section)
        for key, value in table.items():
            spec = specs.get(key)
            if (section, key) in RETIRED_KEYS:
                problems.append(f"{origin}: [{section}] {key} {RETIRED_KEYS[(section, key)]}")
                continue
            if spec is None:
                problems.append(
                    f"{origin}: [{section}] unknown key {key!r}; known: {', '.join(specs)}"
                )
                continue
            why = check_value(spec, value)
            if why:
                shown = "(hidden)" if spec["secret"] else repr(value)  # errors reach logs
                problems.append(
                    f"{origin}: [{section}] {key} = {shown} {why} (allowed: {describe(spec)})"
                )
                continue
            values[(section, key)] = value
    return values, problems


def env_layer(env: Mapping[str, str]) -> tuple[dict[tuple[str, str], Any], dict[str, str], list]:
    """Reads QR_TERMINAL__SECTION__KEY variables; returns values, their variable names, problems."""
    data: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}
    problems: list[str] = []
    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        if len(parts) != 2 or not all(parts):
            problems.append(f"environment {name}: expected {ENV_PREFIX}SECTION__KEY")
            continue
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # a bare word such as `sim` is meant as text
        data.setdefault(parts[0], {})[parts[1]] = value
        names[f"{parts[0]}.{parts[1]}"] = name
    values, layer_problems = validate_layer(data, "environment", frozenset(SECTIONS))
    if ("issuer", "id") in values:
        # Renaming the issuer would keep the chosen profile's names and rates under another id.
        del values[("issuer", "id")]
        layer_problems.append(
            f"environment {names['issuer.id']}: the issuer's id cannot be overridden (it would "
            "keep the other issuer's names and rates); choose the issuer profile instead with "
            f"{ENV_PREFIX}DEVICE__ISSUER=<profile>"
        )
    return values, names, problems + layer_problems


def env_only_tightens(
    merged: Mapping[tuple[str, str], Any],
    env: dict[tuple[str, str], Any],
    names: Mapping[str, str],
) -> list[str]:
    """The environment is a device-level layer: like a device file it cannot change the
    issuer's rates, names or sale rules, and like an issuer profile it may only tighten the
    offline limits (a loosening variable is refused, not silently applied)."""
    problems = []
    for section, key in sorted(env):
        if section in DEVICE_SECTIONS or section == "offline" or (section, key) == ("issuer", "id"):
            continue
        problems.append(
            f"environment {names[f'{section}.{key}']}: [{section}] is the issuer's (its profile "
            "and the platform set it); a device cannot change it: remove the variable"
        )
        del env[(section, key)]
    offline = {k: v for k, v in env.items() if k[0] == "offline"}
    loosened = issuer_only_tightens(merged, offline, "environment")
    for key in offline if loosened else ():
        del env[key]
    return problems + loosened


# Offline limits an issuer profile may lower but never raise (defaults.toml says so).
OFFLINE_CEILINGS = ("max_amount_won", "max_total_won", "max_count", "max_age_hours")


def issuer_only_tightens(
    defaults: Mapping[tuple[str, str], Any], issuer: Mapping[tuple[str, str], Any], origin: str
) -> list[str]:
    """Problems where an issuer profile loosens the default offline limits."""
    problems = []
    for key in OFFLINE_CEILINGS:
        ceiling, value = defaults.get(("offline", key)), issuer.get(("offline", key))
        if ceiling is not None and value is not None and value > ceiling:
            problems.append(
                f"{origin}: [offline] {key} = {value} is above {ceiling}, the limit below it; "
                f"this layer may only tighten offline limits: set it to {ceiling} or less"
            )
    if defaults.get(("offline", "enabled")) is False and issuer.get(("offline", "enabled")):
        problems.append(
            f"{origin}: [offline] enabled = true, but the layer below disables offline "
            "payments; this layer may only tighten offline limits: remove the key"
        )
    return problems


def cross_check(values: Mapping[tuple[str, str], Any], origin: Mapping) -> list[str]:
    """Rules that span keys: each problem names where the offending value came from."""
    problems = []

    def where(section: str, key: str) -> str:
        return f"{origin.get((section, key), '?')}: [{section}] {key} = {values[(section, key)]!r}"

    problems += _sangsaeng_problems(values, where)
    try:
        BarcodeFormat(values[("issuer", "barcode_prefix")], values[("issuer", "barcode_digits")])
    except TokenError as error:
        problems.append(f"{where('issuer', 'barcode_prefix')}: {error}")
    if values[("sync", "backoff_initial_seconds")] > values[("sync", "backoff_max_seconds")]:
        problems.append(f"{where('sync', 'backoff_initial_seconds')} exceeds backoff_max_seconds")
    problems += _pin_clashes(values, origin)
    return problems


def _pin_clashes(values: Mapping[tuple[str, str], Any], origin: Mapping) -> list[str]:
    """Each GPIO pin used by two keys, naming the pin, both keys and where each was set."""
    users: dict[int, list[str]] = {}
    for key in ("buzzer_pin", "green_led_pin", "red_led_pin", "keypad_rows", "keypad_cols"):
        value = values[("gpio", key)]
        for pin in value if isinstance(value, list | tuple) else [value]:
            users.setdefault(pin, []).append(f"{key} ({origin.get(('gpio', key), '?')})")
    return [
        f"[gpio] pin {pin} is used twice: by {' and by '.join(keys)}; give each its own pin"
        for pin, keys in sorted(users.items())
        if len(keys) > 1
    ]


def _sangsaeng_problems(values: Mapping[tuple[str, str], Any], where) -> list[str]:
    """The merchant's 상생 mode must be one its issuer allows, at a rate in that mode's range."""
    problems = []
    ranges = {
        CASHBACK: ("sangsaeng_min_bp", "sangsaeng_max_bp", "상생 cashback"),
        DISCOUNT: ("discount_min_bp", "discount_max_bp", "선할인 discount"),
    }
    for low_key, high_key, _ in ranges.values():
        low, high = values[("benefits", low_key)], values[("benefits", high_key)]
        if low > high:
            problems.append(f"{where('benefits', low_key)} is above {high_key} {high}")
    mode, rate = values[("merchant", "sangsaeng_mode")], values[("merchant", "sangsaeng_rate_bp")]
    allowed = values[("benefits", "sangsaeng_modes")]
    if mode not in allowed:
        problems.append(
            f"{where('merchant', 'sangsaeng_mode')}: the issuer allows only {', '.join(allowed)}"
        )
        return problems
    low_key, high_key, label = ranges[mode]
    low, high = values[("benefits", low_key)], values[("benefits", high_key)]
    if not low <= rate <= high:
        problems.append(
            f"{where('merchant', 'sangsaeng_rate_bp')} is outside the issuer's {label} range "
            f"{low}..{high} bp"
        )
    return problems


def load_config(
    device_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    directory: Path | None = None,
) -> LoadedConfig:
    """Merges every layer; raises ConfigError listing every problem, or returns frozen config."""
    directory = directory or config_dir()
    env = os.environ if env is None else env
    problems: list[str] = []
    merged: dict[tuple[str, str], Any] = {}
    origin: dict[tuple[str, str], str] = {}

    def apply(values: Mapping[tuple[str, str], Any], source: str) -> None:
        for key, value in values.items():
            merged[key] = value
            origin[key] = source

    defaults_path = directory / "defaults.toml"
    data, errors = read_toml(defaults_path)
    problems += errors
    if data is not None:
        values, errors = validate_layer(data, str(defaults_path), DEFAULT_SECTIONS)
        problems += errors
        apply(values, defaults_path.name)

    device_values: dict[tuple[str, str], Any] = {}
    if device_file is not None:
        data, errors = read_toml(device_file)
        problems += errors
        if data == {}:
            # Running on as the demo identity would hide a lost provisioning: refuse.
            problems.append(_empty_file_problem(device_file))
        if data is not None:
            device_values, errors = validate_layer(data, str(device_file), DEVICE_SECTIONS)
            problems += errors
    env_values, env_names, errors = env_layer(env)
    problems += errors

    # The issuer is chosen by the later layers, but its profile sits below them.
    issuer, issuer_origin = merged.get(("device", "issuer")), str(defaults_path)
    if ("device", "issuer") in device_values:
        issuer, issuer_origin = device_values[("device", "issuer")], str(device_file)
    if ("device", "issuer") in env_values:
        issuer, issuer_origin = env_values[("device", "issuer")], "environment"
    if issuer:
        issuer_path = directory / "issuers" / f"{issuer}.toml"
        data, errors = read_toml(issuer_path)
        if errors and not issuer_path.exists():
            known = sorted(p.stem for p in (directory / "issuers").glob("*.toml"))
            errors = [
                f"{issuer_origin}: [device] issuer = {issuer!r} has no profile {issuer_path}; "
                f"known: {', '.join(known)}"
            ]
        problems += errors
        if data is not None:
            values, errors = validate_layer(data, str(issuer_path), ISSUER_SECTIONS)
            problems += errors
            problems += issuer_only_tightens(merged, values, str(issuer_path))
            if values.get(("issuer", "id"), issuer) != issuer:
                problems.append(f"{issuer_path}: [issuer] id must be {issuer!r}, the file's name")
            apply(values, f"issuers/{issuer_path.name}")
    apply(device_values, str(device_file))
    problems += env_only_tightens(merged, env_values, env_names)
    apply(env_values, "environment")
    for key in env_values:
        origin[key] = f"environment {env_names[f'{key[0]}.{key[1]}']}"

    for section in SECTIONS:
        if problems and section in ISSUER_SECTIONS:
            continue  # a broken or absent issuer profile was reported above
        for key in keys_of(section):
            if (section, key) not in merged:
                problems.append(f"[{section}] {key} is not set by any layer")
    if problems:
        raise ConfigError(problems)
    problems = cross_check(merged, origin)
    if problems:
        raise ConfigError(problems)

    sections = {
        name: kind(**{k: _freeze(merged[(name, k)]) for k in keys_of(name)})
        for name, kind in SECTIONS.items()
    }
    return LoadedConfig(config=Config(**sections), sources=dict(origin))


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def check_file(path: Path, directory: Path | None = None) -> list[str]:
    """Validates one config file alone: an issuer profile against the defaults, defaults.toml
    for completeness, a device file merged with everything below it."""
    directory = directory or config_dir()
    data, problems = read_toml(path)
    if data is None:
        return problems
    if not data and path.name != "defaults.toml":  # defaults: every missing key is listed
        return [_empty_file_problem(path)]
    if "issuer" in data or path.parent.name == "issuers":
        return _check_issuer_file(path, data, directory)
    if path.name == "defaults.toml":
        _, problems = validate_layer(data, str(path), DEFAULT_SECTIONS)
        # An empty or partial defaults file passes key by key, but the loader cannot use it.
        missing = [
            f"{path}: [{section}] {key} is missing; defaults.toml must set every setting"
            for section in sorted(DEFAULT_SECTIONS)
            for key in keys_of(section)
            if key not in (_table(data, section) or {})
        ]
        return problems + missing
    try:
        load_config(device_file=path, env={}, directory=directory)
    except ConfigError as error:
        return error.problems
    return []


def _empty_file_problem(path: Path) -> str:
    return (
        f"{path}: sets nothing (an empty file is often a write cut short by a power loss); "
        "restore its settings, or leave the file out"
    )


def _table(data: Mapping[str, Any], section: str) -> dict[str, Any] | None:
    table = data.get(section)
    return table if isinstance(table, dict) else None


def _check_issuer_file(path: Path, data: Mapping[str, Any], directory: Path) -> list[str]:
    values, problems = validate_layer(data, str(path), ISSUER_SECTIONS)
    missing = [
        f"{path}: [{section}] {key} is missing"
        for section in ("issuer", "benefits")
        for key in keys_of(section)
        if key not in (_table(data, section) or {})
    ]
    issuer_id = (_table(data, "issuer") or {}).get("id")
    if not problems and issuer_id != path.stem:
        problems.append(f"{path}: [issuer] id must be {path.stem!r}, the file's name")
    defaults, _ = read_toml(directory / "defaults.toml")
    if defaults is not None:
        default_values, _ = validate_layer(defaults, "defaults.toml", DEFAULT_SECTIONS)
        problems += issuer_only_tightens(default_values, values, str(path))
    return problems + missing


def render_effective(loaded: LoadedConfig) -> str:
    """The effective configuration as TOML, each value followed by where it came from."""
    lines = []
    for section in SECTIONS:
        lines.append(f"[{section}]")
        part = getattr(loaded.config, section)
        for key, spec in keys_of(section).items():
            value = getattr(part, key)
            # A PIN's hash lets anyone who reads it guess the PIN offline: only set or not.
            shown = ('"(set, hidden)"' if value else '""') if spec["secret"] else _toml_value(value)
            lines.append(f"{key} = {shown}".ljust(48) + f"  # {loaded.sources[(section, key)]}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)
