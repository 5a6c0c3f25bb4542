"""The typed shape of the terminal's configuration: every section, key, type and allowed range."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, get_type_hints

from terminal.core.pin import PinHashError, parse_pin_hash, strength_problem

# Patterns are matched against the whole value (fullmatch): `$` alone accepts a trailing newline,
# which let `id = "SIM-1\n"` through into the EMV payload.
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_MCC = re.compile(r"[0-9]{4}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_ISSUER_ID = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_EMV_ANS = re.compile(r"[\x20-\x7E]+")  # EMV "ans": printable ASCII
_TEXT = re.compile(r"[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*")  # non-empty, no control characters
_DIGITS = re.compile(r"[0-9]{1,6}")
# What a message says is allowed; the exact grammar is in the parse error (core/pin.py).
PIN_HASH = "empty, or a hash made by `qr-terminal config pin-hash`"


def pin_hash_problem(value: str) -> str | None:
    """Why a stored PIN hash is refused: unreadable, too much work to check, or too weak."""
    if not value:
        return None  # no PIN: the action stays locked
    try:
        return strength_problem(parse_pin_hash(value))
    except PinHashError as error:
        return f"is not a usable PIN hash: {error}"  # PIN_HASH, said after it, names the fix


def setting(
    kind: type,
    *,
    low: int | None = None,
    high: int | None = None,
    choices: tuple[Any, ...] | None = None,
    pattern: re.Pattern[str] | None = None,
    max_len: int | None = None,
    item: type | None = None,
    allowed: str = "",
    check: Callable[[Any], str | None] | None = None,
    secret: bool = False,
) -> Any:
    """Declares one config key: its TOML type and what values are allowed. `check` returns why
    a value of the right type is still refused (or None); a `secret` value is never shown."""
    return field(
        metadata={
            "kind": kind,
            "low": low,
            "high": high,
            "choices": choices,
            "pattern": pattern,
            "max_len": max_len,
            "item": item,
            "allowed": allowed,
            "check": check,
            "secret": secret,
        }
    )


def check_value(spec: dict[str, Any], value: Any) -> str | None:
    """Returns why `value` is not allowed by `spec`, or None when it is."""
    kind = spec["kind"]
    # bool is a subclass of int in Python; TOML keeps them apart and so do we.
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        return "must be a whole number"
    if kind is bool and not isinstance(value, bool):
        return "must be true or false"
    if kind is str and not isinstance(value, str):
        return "must be text in quotes"
    if kind is list:
        if not isinstance(value, list):
            return f"must be a list of {'numbers' if spec['item'] is int else 'texts'}"
        for element in value:
            bad_int = spec["item"] is int and (
                isinstance(element, bool) or not isinstance(element, int)
            )
            if bad_int or (spec["item"] is str and not isinstance(element, str)):
                return f"has an element {element!r} of the wrong type"
        if spec["choices"] is not None:
            for element in value:
                if element not in spec["choices"]:
                    return f"has {element!r}; each must be one of {', '.join(spec['choices'])}"
        if spec["low"] is not None and len(value) < spec["low"]:
            return f"must have at least {spec['low']} element(s)"
        return None
    if kind is int:
        if spec["low"] is not None and value < spec["low"]:
            return f"must be at least {spec['low']}"
        if spec["high"] is not None and value > spec["high"]:
            return f"must be at most {spec['high']}"
    if spec["choices"] is not None and value not in spec["choices"]:
        return f"must be one of {', '.join(str(c) for c in spec['choices'])}"
    if kind is str:
        if spec["max_len"] is not None and len(value) > spec["max_len"]:
            return f"must be at most {spec['max_len']} characters"
        if spec["pattern"] is not None and not spec["pattern"].fullmatch(value):
            return f"must be {spec['allowed'] or 'of the form ' + spec['pattern'].pattern}"
    if spec.get("check") is not None:
        return spec["check"](value)
    return None


def describe(spec: dict[str, Any]) -> str:
    """A short human description of what a key allows, for messages."""
    parts = [{int: "integer", bool: "boolean", str: "text", list: "list"}[spec["kind"]]]
    if spec["low"] is not None or spec["high"] is not None:
        parts.append(f"{spec['low']}..{spec['high'] if spec['high'] is not None else ''}")
    if spec["choices"] is not None:
        parts.append("one of " + ", ".join(str(c) for c in spec["choices"]))
    if spec["allowed"]:
        parts.append(spec["allowed"])
    return ", ".join(parts)


@dataclass(frozen=True)
class DeviceConfig:
    id: str = setting(str, pattern=_ID, allowed="1-40 letters, digits, '.', '_' or '-'")
    serial: str = setting(str, pattern=_ID, allowed="1-40 letters, digits, '.', '_' or '-'")
    issuer: str = setting(str, pattern=_ISSUER_ID, allowed="a lower-case issuer profile name")


@dataclass(frozen=True)
class MerchantConfig:
    id: str = setting(str, pattern=_ID, max_len=25, allowed="1-25 letters, digits, '.', '_' or '-'")
    name_ko: str = setting(str, max_len=25, pattern=_TEXT, allowed="one line of text")
    name_en: str = setting(str, max_len=25, pattern=_EMV_ANS, allowed="printable ASCII")
    city_ko: str = setting(str, max_len=15, pattern=_TEXT, allowed="one line of text")
    city_en: str = setting(str, max_len=15, pattern=_EMV_ANS, allowed="printable ASCII")
    mcc: str = setting(str, pattern=_MCC, allowed="four digits (ISO 18245)")
    sangsaeng_rate_bp: int = setting(int, low=0, high=10000)
    # How the merchant gives its 상생 share: cashback paid later, or 선할인 at payment. The
    # issuer's [benefits] sangsaeng_modes say which it allows, and the rate range of each.
    sangsaeng_mode: str = setting(str, choices=("cashback", "discount"))
    # Printed on receipts, as Korean law asks of a 영수증: who sold, where, under which number.
    business_number: str = setting(
        str, pattern=re.compile(r"[0-9]{3}-[0-9]{2}-[0-9]{5}"), allowed="000-00-00000"
    )
    address_ko: str = setting(str, max_len=80, pattern=_TEXT, allowed="one line of text")
    representative_ko: str = setting(str, max_len=25, pattern=_TEXT, allowed="one line of text")
    # vat: prices include 10% 부가세; exempt: 면세
    tax: str = setting(str, choices=("vat", "exempt"))


@dataclass(frozen=True)
class PlatformConfig:
    url: str = setting(
        str, pattern=re.compile(r"https?://\S+"), allowed="an http:// or https:// URL"
    )
    # At most 18: the sale QR's signature templates hold it beside 43 signature characters.
    guid: str = setting(str, max_len=18, pattern=_EMV_ANS, allowed="printable ASCII")


@dataclass(frozen=True)
class DisplayConfig:
    backend: str = setting(str, choices=("auto", "headless", "window", "framebuffer"))
    width: int = setting(int, low=96, high=4096)
    height: int = setting(int, low=96, high=4096)
    rotation: int = setting(int, choices=(0, 90, 180, 270))
    framebuffer: str = setting(str)
    font: str = setting(str)


@dataclass(frozen=True)
class CameraConfig:
    backend: str = setting(str, choices=("sim", "picamera2", "v4l2", "files"))
    device: str = setting(str)
    width: int = setting(int, low=160, high=4096)
    height: int = setting(int, low=120, high=3072)
    fps: int = setting(int, low=1, high=120)
    autofocus: bool = setting(bool)


@dataclass(frozen=True)
class DecoderConfig:
    backends: tuple[str, ...] = setting(list, item=str, choices=("zxing", "zbar", "opencv"), low=1)
    formats: tuple[str, ...] = setting(list, item=str, choices=("QRCode", "Code128"), low=1)
    max_fps: int = setting(int, low=1, high=60)
    hold_release_ms: int = setting(int, low=100, high=60000)


@dataclass(frozen=True)
class GpioConfig:
    backend: str = setting(str, choices=("mock", "lgpio"))
    buzzer_pin: int = setting(int, low=0, high=27)
    green_led_pin: int = setting(int, low=0, high=27)
    red_led_pin: int = setting(int, low=0, high=27)
    keypad_rows: tuple[int, ...] = setting(list, item=int, low=1)
    keypad_cols: tuple[int, ...] = setting(list, item=int, low=1)
    keypad_keys: tuple[str, ...] = setting(list, item=str, low=1)  # row by row, parsed at open
    buttons: tuple[str, ...] = setting(list, item=str)  # "PIN=KEY", e.g. "17=enter"
    rgb_led_pins: tuple[int, ...] = setting(list, item=int)  # red, green, blue for leds = "rgb"


@dataclass(frozen=True)
class InputConfig:
    backend: str = setting(str, choices=("auto", "window", "evdev", "touch", "gpio", "script"))
    device: str = setting(str)  # /dev/input/eventN or by-id path; empty: the first keypad found
    grab: bool = setting(bool)
    key_map: tuple[str, ...] = setting(list, item=str)  # "KEY_KP7=7": evdev code = key name
    touch_device: str = setting(str)
    touch_x_min: int = setting(int, low=0, high=65535)
    touch_x_max: int = setting(int, low=0, high=65535)
    touch_y_min: int = setting(int, low=0, high=65535)
    touch_y_max: int = setting(int, low=0, high=65535)
    touch_swap_xy: bool = setting(bool)
    script: str = setting(str)  # for backend "script": a file of "SECONDS KEY" lines


@dataclass(frozen=True)
class FeedbackConfig:
    backend: str = setting(str, choices=("gpio", "record"))
    buzzer: str = setting(str, choices=("active", "passive", "none"))
    tone_hz: int = setting(int, low=100, high=10000)
    leds: str = setting(str, choices=("pair", "rgb", "none"))
    key_click: bool = setting(bool)


@dataclass(frozen=True)
class PrinterConfig:
    backend: str = setting(str, choices=("none", "usb", "serial", "network", "dummy"))
    usb_vendor: int = setting(int, low=0, high=0xFFFF)
    usb_product: int = setting(int, low=0, high=0xFFFF)
    serial_device: str = setting(str)
    baudrate: int = setting(int, low=1200, high=921600)
    host: str = setting(str)
    port: int = setting(int, low=1, high=65535)
    paper_width_px: int = setting(int, low=128, high=832)  # 384 for 58 mm paper, 576 for 80 mm
    receipt_url: str = setting(str)  # digital receipt link printed as QR: this + transaction id


@dataclass(frozen=True)
class SoundConfig:
    enabled: bool = setting(bool)
    beep_ok_ms: int = setting(int, low=10, high=5000)
    beep_error_ms: int = setting(int, low=10, high=5000)


@dataclass(frozen=True)
class QrConfig:
    sale_expiry_seconds: int = setting(int, low=30, high=3600)


@dataclass(frozen=True)
class OfflineConfig:
    enabled: bool = setting(bool)
    max_amount_won: int = setting(int, low=0, high=10_000_000)
    max_total_won: int = setting(int, low=0, high=100_000_000)
    max_count: int = setting(int, low=0, high=10_000)
    max_age_hours: int = setting(int, low=1, high=24 * 30)


@dataclass(frozen=True)
class SyncConfig:
    interval_seconds: int = setting(int, low=1, high=3600)
    batch_size: int = setting(int, low=1, high=1000)
    backoff_initial_seconds: int = setting(int, low=1, high=3600)
    backoff_max_seconds: int = setting(int, low=1, high=86400)
    long_poll_seconds: int = setting(int, low=1, high=120)
    request_timeout_seconds: int = setting(int, low=1, high=300)


@dataclass(frozen=True)
class PathsConfig:
    state_dir: str = setting(str, pattern=_TEXT, allowed="a non-empty path")
    database: str = setting(str, pattern=_TEXT, allowed="a non-empty path")
    device_key: str = setting(str, pattern=_TEXT, allowed="a non-empty path")
    device_cert: str = setting(str, pattern=_TEXT, allowed="a non-empty path")
    screens_dir: str = setting(str, pattern=_TEXT, allowed="a non-empty path")
    camera_files: str = setting(str)


@dataclass(frozen=True)
class LocaleConfig:
    language: str = setting(str, choices=("ko", "en"))
    timezone: str = setting(str, pattern=re.compile(r"[A-Za-z_]+(/[A-Za-z_+-]+)*"))


@dataclass(frozen=True)
class IssuerConfig:
    id: str = setting(str, pattern=_ISSUER_ID, allowed="a lower-case issuer profile name")
    name_ko: str = setting(str, max_len=25, pattern=_TEXT, allowed="one line of text")
    name_en: str = setting(str, max_len=25, pattern=_EMV_ANS, allowed="printable ASCII")
    region_ko: str = setting(str, pattern=_TEXT, allowed="one line of text")
    colour_primary: str = setting(str, pattern=_COLOUR, allowed="#RRGGBB")
    colour_accent: str = setting(str, pattern=_COLOUR, allowed="#RRGGBB")
    # The numeric payment code its wallets show: issuer prefix, total digits with the check digit.
    barcode_prefix: str = setting(str, pattern=_DIGITS, allowed="1-6 digits")
    barcode_digits: int = setting(int, low=21, high=24)


@dataclass(frozen=True)
class BenefitsConfig:
    city_rate_bp: int = setting(int, low=0, high=10000)
    city_monthly_cap_won: int = setting(int, low=0, high=10_000_000)
    district_topup_bp: int = setting(int, low=0, high=10000)
    district_monthly_cap_won: int = setting(int, low=0, high=10_000_000)
    sangsaeng_min_bp: int = setting(int, low=0, high=10000)
    sangsaeng_max_bp: int = setting(int, low=0, high=10000)
    # Which ways a merchant may give its share, and the 선할인 (discount at payment) range.
    sangsaeng_modes: tuple[str, ...] = setting(
        list, item=str, choices=("cashback", "discount"), low=1
    )
    discount_min_bp: int = setting(int, low=0, high=9999)
    discount_max_bp: int = setting(int, low=0, high=9999)


@dataclass(frozen=True)
class SaleConfig:
    # The issuer's per-sale maximum: amount entry refuses a keystroke that would pass it.
    max_amount_won: int = setting(int, low=1, high=9_999_999_999)


@dataclass(frozen=True)
class CounterConfig:
    # The shop's preset item keys, "label=won" (e.g. "떡볶이=4000"), at most twelve.
    presets: tuple[str, ...] = setting(list, item=str)
    # The PINs' salted scrypt hashes (`qr-terminal config pin-hash` makes one); empty keeps
    # refunds/day close or the technician menu locked.
    manager_pin_hash: str = setting(str, check=pin_hash_problem, secret=True, allowed=PIN_HASH)
    technician_pin_hash: str = setting(str, check=pin_hash_problem, secret=True, allowed=PIN_HASH)
    auto_print: bool = setting(bool)  # print the receipt with every approval


@dataclass(frozen=True)
class Config:
    """The whole effective configuration, frozen."""

    device: DeviceConfig
    merchant: MerchantConfig
    platform: PlatformConfig
    display: DisplayConfig
    camera: CameraConfig
    decoder: DecoderConfig
    gpio: GpioConfig
    input: InputConfig
    feedback: FeedbackConfig
    printer: PrinterConfig
    sound: SoundConfig
    qr: QrConfig
    offline: OfflineConfig
    sync: SyncConfig
    paths: PathsConfig
    locale: LocaleConfig
    issuer: IssuerConfig
    benefits: BenefitsConfig
    sale: SaleConfig
    counter: CounterConfig


SECTIONS: dict[str, type] = get_type_hints(Config)


def keys_of(section: str) -> dict[str, dict[str, Any]]:
    """The key specs of one section, by key name."""
    return {f.name: dict(f.metadata) for f in fields(SECTIONS[section])}


# Which sections each layer may set. Issuer benefits belong to the issuer (and the platform
# that pushes them), so a device file cannot raise its own cashback rates.
ISSUER_SECTIONS = frozenset({"issuer", "benefits", "offline", "sale"})
DEVICE_SECTIONS = frozenset(SECTIONS) - {"issuer", "benefits", "offline", "qr", "sale"}
DEFAULT_SECTIONS = frozenset(SECTIONS) - {"issuer", "benefits"}

# Keys that once existed and are refused with what to use instead (never silently accepted).
RETIRED_KEYS: dict[tuple[str, str], str] = {
    ("counter", f"{who}_pin_sha256"): (
        "is an unsalted SHA-256, which gives a 4-8 digit PIN back in well under a second; "
        f"make the new hash with `qr-terminal config pin-hash` and set {who}_pin_hash instead"
    )
    for who in ("manager", "technician")
}
