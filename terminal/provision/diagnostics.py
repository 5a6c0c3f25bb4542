"""`scripts/collect-diagnostics`: one .tar.gz for a support call — recent service logs, the
selftest as JSON, the configuration, versions, the hardware seen, ledger statistics — built
so that no private key, certificate private part, customer token or signed record leaves the
device: only files made here go in (never the key or the database), and every text passes
through `redact` first."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from terminal import __version__
from terminal.config.schema import GpioConfig
from terminal.provision.files import create_new
from terminal.provision.layout import (
    MAIN_UNIT,
    OPT_DIR,
    TIMERS,
    ProvisionedPaths,
    StateFiles,
    under,
)

LOG_SINCE = "-3d"
LOG_LINES = 20000
REDACTED = "[redacted]"
# A PEM block of any kind, a compact JWS/JWT (three base64url parts), our sealed codes (customer
# token EU1:, receipt ER1:, Base45 that may hold spaces: to the end of the line or quote), a
# wallet's numeric payment code (16+ digits), and any other long base64url run. Hex digests
# of 40 or 64 characters (commits, certificate fingerprints) are public and stay.
_PATTERNS = (
    re.compile(r"-----BEGIN [A-Z ]+-----.*?(-----END [A-Z ]+-----|\Z)", re.S),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    re.compile(r"\b[A-Z]{2}[0-9]:[^\"'\n]*"),
    re.compile(r"(?<![0-9])[0-9]{16,}(?![0-9])"),
)
_LONG_RUN = re.compile(r"[A-Za-z0-9_+/-]{40,}={0,2}")
_PUBLIC_HEX = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# A value whose name says it is secret. "pin" covers the manager/technician PIN hashes: even
# salted and slow (scrypt), a hash of a 4-8 digit PIN can be guessed offline given time.
_SECRET_NAME = re.compile(r"(?i)secret|token|password|passwd|code|pin")
# The GPIO wiring (which header pin drives the buzzer or an LED) is public and helps support.
_WIRING = frozenset(f.name for f in dataclasses.fields(GpioConfig) if "pin" in f.name)
_PIN_NUMBERS = re.compile(r"\[?\s*[0-9]{1,2}(\s*,\s*[0-9]{1,2})*\s*,?\s*\]?")
# `name = value` (TOML, key=value logs: a quoted value, else up to a quote, the next
# `name=` or the end of the line) and `"name": value` (JSON, anywhere; an object's names
# are looked at one by one).
_ASSIGNED = re.compile(
    r"(?m)(?<![\w.-])([\w.-]+)(\s*=(?!=)\s*)"
    r'("(?:[^"\\\n]|\\.)*"|[^"\n]*?(?=\s+[\w.-]+\s*=(?!=)|"|$))'
)
_JSON_PAIR = re.compile(r'"([\w .-]+)"(\s*:\s*)("(?:[^"\\]|\\.)*"|\[[^\]]*\]|[^,{}\[\]\s]+)')


def _hide_secret(match: re.Match) -> str:
    name, separator, value = match.group(1), match.group(2), match.group(3)
    if not _SECRET_NAME.search(name):
        return match.group(0)
    if name.rsplit(".", 1)[-1] in _WIRING and _PIN_NUMBERS.fullmatch(value.rstrip(",")):
        return match.group(0)
    if match.re is _JSON_PAIR:
        return f'"{name}"{separator}"{REDACTED}"'  # still JSON
    return f"{name}{separator}{REDACTED}"


def redact(text: str) -> str:
    """Removes anything that could be a key, a certificate body, a token, a signed record, or
    a value named secret (the PIN hashes among them)."""
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    text = _LONG_RUN.sub(
        lambda m: m.group(0) if _PUBLIC_HEX.fullmatch(m.group(0)) else REDACTED, text
    )
    text = _JSON_PAIR.sub(_hide_secret, text)
    return _ASSIGNED.sub(_hide_secret, text)


def _run(argv: list[str], timeout: float = 30) -> str:
    if shutil.which(argv[0]) is None:
        return f"({argv[0]} not available here)\n"
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"({' '.join(argv)} failed: {error})\n"
    return result.stdout + (f"\n(stderr)\n{result.stderr}" if result.stderr.strip() else "")


def selftest_output(argv: list[str], timeout_s: float = 120) -> str:
    """The selftest's JSON (or what it said instead): a hang or a failure to start is written
    into the archive, never a reason to have no archive."""
    try:
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout_s, env=dict(os.environ)
        )
    except subprocess.TimeoutExpired:
        return f"(the selftest timed out after {timeout_s:g} s)\n"
    except OSError as error:
        return f"(the selftest did not start: {error})\n"
    return result.stdout or result.stderr


def logs() -> str:
    units = [
        arg
        for unit in (MAIN_UNIT, *TIMERS, *(t.replace(".timer", ".service") for t in TIMERS))
        for arg in ("-u", unit)
    ]
    return _run(
        [
            "journalctl",
            *units,
            "--since",
            LOG_SINCE,
            "-n",
            str(LOG_LINES),
            "-o",
            "short-iso",
            "--no-pager",
        ],
        timeout=60,
    )


def versions(root: Path | None) -> str:
    lines = [
        f"qr-terminal {__version__}",
        f"python {sys.version.split()[0]}",
        f"platform {platform.platform()}",
    ]
    opt = under(root, OPT_DIR)
    link = opt / "current"
    if link.is_symlink():
        lines.append(f"release {os.readlink(link)}")
    releases = sorted(p.name for p in (opt / "releases").glob("*")) if opt.exists() else []
    lines.append(f"installed releases: {', '.join(releases) or '-'}")
    commit = _run(["git", "-C", str(Path(__file__).resolve().parents[2]), "rev-parse", "HEAD"])
    lines.append(f"source commit: {commit.strip().splitlines()[0] if commit.strip() else '-'}")
    with contextlib.suppress(OSError):
        lines.append(
            "os: " + Path("/etc/os-release").read_text(encoding="utf-8").replace("\n", "; ")
        )
    lines.append("packages:")
    lines += sorted(
        f"  {d.metadata['Name']}=={d.version}"
        for d in metadata.distributions()
        if d.metadata["Name"]
    )
    return "\n".join(lines) + "\n"


def hardware() -> str:
    lines = []
    try:
        model = Path("/proc/device-tree/model").read_bytes().rstrip(b"\0").decode(errors="replace")
        lines.append(f"model: {model}")
    except OSError:
        lines.append("model: (not a Raspberry Pi)")
    for pattern in (
        "video*",
        "media*",
        "fb*",
        "dri/*",
        "input/by-id/*",
        "gpiochip*",
        "ttyUSB*",
        "ttyACM*",
        "ttyAMA*",
        "serial*",
        "usb/lp*",
        "dma_heap/*",
    ):
        found = sorted(str(p) for p in Path("/dev").glob(pattern))
        lines.append(f"/dev/{pattern}: {' '.join(found) or '-'}")
    lines.append(_run(["lsusb"]))
    lines.append(_run(["vcgencmd", "get_throttled"]))
    lines.append(_run(["df", "-h", "/", "/var/lib"]))
    return "\n".join(lines) + "\n"


def ledger_statistics(files: StateFiles) -> str:
    from terminal.ledger.health import DatabaseUnreadable, check_database

    if not files.database.exists():
        return json.dumps({"database": "absent"}) + "\n"
    try:
        health = check_database(files.database)
    except DatabaseUnreadable as error:
        return json.dumps({"database": "unreadable", "why": str(error)}) + "\n"
    size = files.database.stat().st_size
    return json.dumps({**asdict(health), "size_bytes": size}, indent=2) + "\n"


def certificate_summary(files: StateFiles) -> str:
    """The public facts of the device certificate (never its key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        certificate = x509.load_pem_x509_certificates(files.cert.read_bytes())[0]
    except (OSError, ValueError) as error:
        return f"no certificate: {error}\n"
    return (
        f"subject: {certificate.subject.rfc4514_string()}\n"
        f"issuer: {certificate.issuer.rfc4514_string()}\n"
        f"serial: {certificate.serial_number:x}\n"
        f"not before: {certificate.not_valid_before_utc.isoformat()}\n"
        f"not after: {certificate.not_valid_after_utc.isoformat()}\n"
        f"sha256: {certificate.fingerprint(hashes.SHA256()).hex()}\n"
    )


def collect(
    out: Path,
    device_file: Path | None,
    root: Path | None,
    selftest_json: Callable[[], str],
    journal: Callable[[], str] = logs,
) -> list[str]:
    """Writes the archive (whole or not at all, readable by its owner only, never over an
    existing file: FileExistsError); returns its members."""
    from terminal.config.loader import ConfigError, load_config, render_effective

    members: dict[str, str] = {}
    try:
        loaded = load_config(device_file=device_file, env={})
        members["config-effective.toml"] = render_effective(loaded)
        files = StateFiles.from_paths(loaded.config.paths, root)
    except ConfigError as error:
        members["config-effective.toml"] = "configuration does not load:\n" + str(error)
        files = StateFiles.from_paths(ProvisionedPaths(), root)
    if device_file is not None and device_file.is_file():
        members["device.toml"] = device_file.read_text(encoding="utf-8", errors="replace")
    if files.enrollment.is_file():
        members["enrollment.json"] = files.enrollment.read_text(encoding="utf-8")
    members["certificate.txt"] = certificate_summary(files)
    members["selftest.json"] = selftest_json()
    members["ledger.json"] = ledger_statistics(files)
    members["versions.txt"] = versions(root)
    members["hardware.txt"] = hardware()
    members["logs.txt"] = journal()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as archive:
        for name, text in members.items():
            data = redact(text).encode()
            info = tarfile.TarInfo(f"qr-terminal-diagnostics-{stamp}/{name}")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            archive.addfile(info, io.BytesIO(data))
    create_new(out, packed.getvalue(), 0o600)  # 0600 from the start; never over a file
    return sorted(members)
