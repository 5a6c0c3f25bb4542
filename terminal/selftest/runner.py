"""Runs every selftest check in the order a technician reads them; a check that depends on
an earlier one that failed is skipped with the reason, never run half-blind."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from terminal.config.loader import ConfigError, load_config
from terminal.hw.device import DeviceCheck
from terminal.ledger.certs import device_id_of, load_certificates
from terminal.provision.layout import StateFiles
from terminal.selftest import local, remote
from terminal.selftest.clock import ntp_synchronised
from terminal.selftest.devices import device_results
from terminal.selftest.report import FAIL, SKIP, Result


@dataclass(frozen=True)
class Inputs:
    device_file: Path | None
    env: Mapping[str, str]
    now_ms: int  # read once by the caller: every check judges the same instant
    wall_ms: Callable[[], int]  # for the platform round trip
    root: Path | None = None  # a provisioned tree (scripts/provision --root)
    offline: bool = False  # skip the platform (no network on purpose)
    device_checks: Callable[[object], Iterable[DeviceCheck]] | None = None
    ntp: Callable[[], bool | None] = field(default=ntp_synchronised)


def run(inputs: Inputs) -> list[Result]:
    source = str(inputs.device_file) if inputs.device_file else "firmware_config/defaults.toml"
    try:
        config = load_config(device_file=inputs.device_file, env=inputs.env).config
    except ConfigError as error:
        failed = local.configuration(error.problems, source)
        return [
            failed,
            _skip("*", ("나머지", "other checks"), "설정 오류", "configuration invalid"),
        ]
    results = [local.configuration(None, source)]
    if inputs.device_checks is not None:
        results += device_results(inputs.device_checks(config))
    files = StateFiles.from_paths(config.paths, inputs.root)
    key = local.key_matches_certificate(files.key, files.cert)
    certificate = local.certificate_validity(files.cert, files.platform_ca, inputs.now_ms)
    results += [key, certificate]
    measured = None
    if inputs.offline:
        results.append(
            _skip("platform", ("플랫폼 연결", "platform"), "생략", "skipped (--offline)")
        )
    elif FAIL in (key.status, certificate.status):
        results.append(
            _skip(
                "platform", ("플랫폼 연결", "platform"), "키/인증서 오류", "no usable certificate"
            )
        )
    else:
        reached, measured = remote.platform(
            config.platform.url,
            files.platform_ca,
            files.cert,
            files.key,
            files.platform_keys,
            _device_id(files.cert, config.device.id),
            inputs.wall_ms,
            timeout=float(config.sync.request_timeout_seconds),
        )
        results.append(reached)
    results.append(remote.clock(inputs.ntp(), measured))
    results.append(local.free_disk(files.state_dir))
    database, health = local.database(files.database)
    results.append(database)
    if health is not None and health.intact:
        results.append(local.outbox(health, inputs.now_ms, config.offline.max_age_hours))
    return results


def _device_id(cert_path: Path, fallback: str) -> str:
    """The platform knows the device by its certificate's CN (set at enrollment)."""
    try:
        named = device_id_of(load_certificates(cert_path, "device")[0])
    except (OSError, ValueError):
        return fallback
    return named or fallback


def _skip(check: str, title: tuple[str, str], ko: str, en: str) -> Result:
    return Result(check, *title, SKIP, ko, en)
