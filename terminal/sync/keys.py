"""The platform's public keys (JWKS): cached on disk, refreshed on a schedule, and refreshed
early when a code names a key id we do not know, at most once per `min_interval` so a flood of
forged key ids cannot make the terminal hammer the platform."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from terminal.signing import JwsError, PlatformKeys, load_jwks
from terminal.sync.files import WriteFailures, save_quietly

REFRESH_SECONDS = 6 * 3600
MIN_INTERVAL_SECONDS = 60


class KeyCache:
    """Holds the platform keys. Readers take `.keys` / `.platform_keys` (swapped whole);
    the sync thread calls `refresh` when `due`."""

    def __init__(
        self,
        path: Path | None,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
        min_interval_seconds: float = MIN_INTERVAL_SECONDS,
    ):
        self.path = path
        self.refresh_seconds = refresh_seconds
        self.min_interval = min_interval_seconds
        self.keys: dict[str, Any] = {}
        self.failures = WriteFailures("platform key cache")
        self.platform_keys = PlatformKeys({})
        self.fetched_at: float | None = None  # monotonic time of the last successful refresh
        self.attempted_at: float | None = None
        self.unknown_wanted = False  # a code named a key id we lack
        self.generation = 0  # counts key sets put in force (readers wait for a newer one)
        self._changed = threading.Condition()
        if path is not None:
            self._load_file(path)

    def _load_file(self, path: Path) -> None:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            self._install(load_jwks(document))
        except (OSError, ValueError):
            # A missing or damaged cache is not fatal: the next refresh replaces it.
            return

    def install(self, document: Mapping[str, Any], now: float) -> None:
        """Validates a JWKS document, keeps it on disk (atomically) and puts it in force."""
        keys = load_jwks(document)  # JwsError for anything malformed: nothing changes
        if self.path is not None:
            self._save(self.path, document)
        self._install(keys)
        self.fetched_at = now
        self.unknown_wanted = False

    def _save(self, path: Path, document: Mapping[str, Any]) -> None:
        """Best effort: keys the disk refused (full, read-only) are in force all the same; the
        cache only spares the next start a fetch, and the next refresh writes it again."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self.failures.failed(path, error)
            return
        save_quietly(path, json.dumps(document, sort_keys=True), self.failures)

    def _install(self, keys: Mapping[str, Any]) -> None:
        with self._changed:
            self.keys = dict(keys)
            self.platform_keys = PlatformKeys(self.keys)
            self.generation += 1
            self._changed.notify_all()

    def wait_newer(self, generation: int, timeout: float) -> bool:
        """Waits (at most `timeout` s) until keys newer than `generation` are in force."""
        with self._changed:
            return self._changed.wait_for(lambda: self.generation > generation, timeout)

    def note_unknown(self, kid: str) -> None:
        """A token, receipt or signed time named `kid`; fetch the keys early if we lack it."""
        if kid not in self.keys:
            self.unknown_wanted = True

    def due(self, now: float) -> bool:
        if self.attempted_at is not None and now - self.attempted_at < self.min_interval:
            return False  # the rate limit: at most one fetch per min_interval, whatever asks
        if not self.keys or self.unknown_wanted:
            return True
        return self.fetched_at is None or now - self.fetched_at >= self.refresh_seconds

    def refresh(self, fetch: Callable[[], Mapping[str, Any]], now: float) -> bool:
        """Fetches and installs keys if due; True when new keys are in force."""
        if not self.due(now):
            return False
        self.attempted_at = now
        document = fetch()
        try:
            self.install(document, now)
        except JwsError:
            return False
        return True
