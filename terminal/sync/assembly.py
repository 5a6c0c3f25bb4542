"""Builds the sync from the terminal's configuration: where its files live (the provisioning
layout), the mTLS client, and the worker with its status, keys, trusted clock and pushed
configuration. The app, `qr-terminal sync` and the demo all build it here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from requests.adapters import BaseAdapter

from terminal.config.schema import Config
from terminal.provision.layout import StateFiles
from terminal.sync.backoff import SystemClock
from terminal.sync.client import PlatformClient
from terminal.sync.keys import KeyCache
from terminal.sync.parked import ParkedList
from terminal.sync.pushed_config import ConfigHolder
from terminal.sync.stand import StandFeed
from terminal.sync.status import StatusBoard
from terminal.sync.transport import Timeouts, TlsFiles
from terminal.sync.trusted_time import TrustedClock
from terminal.sync.worker import SyncSettings, SyncWorker

STATUS_FILE = "sync-status.json"  # the running sync's snapshot, for `qr-terminal sync status`
PARKED_FILE = "parked.jsonl"  # records the platform refused, with its reasons
PUSHED_CONFIG_FILE = "pushed-config.json"  # the last good pushed configuration
STAND_CURSOR_FILE = "stand-cursor.json"  # stand payments recorded up to this cursor


@dataclass(frozen=True)
class SyncFiles:
    state: StateFiles
    status: Path
    parked: Path
    pushed_config: Path
    stand_cursor: Path

    @classmethod
    def from_config(cls, config: Config, root: Path | None = None) -> SyncFiles:
        state = StateFiles.from_paths(config.paths, root)
        return cls(
            state=state,
            status=state.state_dir / STATUS_FILE,
            parked=state.state_dir / PARKED_FILE,
            pushed_config=state.state_dir / PUSHED_CONFIG_FILE,
            stand_cursor=state.state_dir / STAND_CURSOR_FILE,
        )

    @property
    def tls(self) -> TlsFiles:
        return TlsFiles(ca=self.state.platform_ca, cert=self.state.cert, key=self.state.key)


def timeouts_for(config: Config) -> Timeouts:
    return Timeouts(
        connect=min(5.0, config.sync.request_timeout_seconds),
        read=float(config.sync.request_timeout_seconds),
    )


def client_for(
    config: Config,
    files: SyncFiles,
    adapter: BaseAdapter | None = None,
    on_contact=None,
):
    """A client for one thread. The app makes its own for online calls and passes
    `on_contact=worker.network_seen`, so an answer to it wakes a sync that was offline."""
    return PlatformClient.connect(
        config.platform.url, files.tls, timeouts_for(config), adapter=adapter, on_contact=on_contact
    )


def build_worker(
    config: Config,
    ledger,
    *,
    files: SyncFiles | None = None,
    adapter: BaseAdapter | None = None,
    clock=None,
) -> SyncWorker:
    """The sync worker for this terminal, not yet started."""
    files = files or SyncFiles.from_config(config)
    clock = clock or SystemClock()
    trusted = TrustedClock(
        wall_ms=clock.wall_ms,
        monotonic=clock.monotonic,
        last_trusted_ms=ledger.last_trusted_ms(),
        note_trusted=ledger.note_trusted_time,
    )
    return SyncWorker(
        ledger,
        client_for(config, files, adapter),
        device_id=config.device.id,
        settings=SyncSettings.from_config(config.sync),
        clock=clock,
        status=StatusBoard(files.status),
        parked=ParkedList(files.parked),
        keys=KeyCache(files.state.platform_keys),
        trusted=trusted,
        config=ConfigHolder(config, files.pushed_config),
        stand=StandFeed(files.stand_cursor),
    )
