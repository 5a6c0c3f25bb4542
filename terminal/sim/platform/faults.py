"""Fault injection: what the simulator does wrong, switchable per run and at run time.

A `Faults` object is the control: tests hold it (`PlatformServer.faults`), the admin endpoint
edits it (`PUT /admin/faults`), `--faults JSON` sets it at start. Each fault fires with its
rate on requests whose path starts with its prefix, drawn from a seeded generator (a run is
repeatable), and switches itself off after `count` firings, so no fault loop is unbounded.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass

from aiohttp import web

from terminal.sim.platform.problems import internal, unavailable

KINDS = (
    "refuse",  # the listening socket closes for `seconds` (0: until cleared); rate is ignored
    "drop_request",  # the connection closes before the handler runs: nothing happened
    "drop_reply",  # the handler commits, then the connection closes instead of the answer
    "delay",  # `seconds` before the handler runs
    "error_500",  # a 500 problem, handler not run
    "unavailable_503",  # a 503 problem with Retry-After = `seconds` (at least 1), handler not run
    "close_mid_body",  # the handler commits; headers and half the body go out, then close
    "slow",  # the handler commits; the body trickles out over `seconds`
)


class FaultSpecError(ValueError):
    """A fault description that cannot be used; the message names the field."""


@dataclass
class Fault:
    kind: str
    rate: float = 1.0
    path: str = "/v1/"
    count: int | None = None  # switch off after firing this many times (None: never)
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FaultSpecError(f"fault kind must be one of {', '.join(KINDS)}: {self.kind!r}")
        if not isinstance(self.rate, int | float) or not 0 <= self.rate <= 1:
            raise FaultSpecError(f"fault rate must be between 0 and 1: {self.rate!r}")
        if self.count is not None and (not isinstance(self.count, int) or self.count < 0):
            raise FaultSpecError(f"fault count must be a whole number ≥ 0: {self.count!r}")
        if not isinstance(self.seconds, int | float) or not 0 <= self.seconds <= 60:
            raise FaultSpecError(f"fault seconds must be 0..60: {self.seconds!r}")
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise FaultSpecError(f"fault path must be a path prefix: {self.path!r}")


class Faults:
    """Thread-safe: tests change it from their thread while the server loop reads it."""

    def __init__(self, seed: int = 0):
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._faults: list[Fault] = []
        self.clock_skew_ms = 0
        self.fired: Counter[str] = Counter()
        self.on_change: list = []  # callbacks run after every change (the server's refuse switch)

    def set(self, *faults: Fault, clock_skew_ms: int | None = None, seed: int | None = None):
        """Replaces every fault (and the skew / seed when given)."""
        with self._lock:
            self._faults = list(faults)
            self.fired = Counter()  # counts since the faults were last set
            if clock_skew_ms is not None:
                self.clock_skew_ms = int(clock_skew_ms)
            if seed is not None:
                self._random = random.Random(seed)
        self._changed()

    def clear(self) -> None:
        self.set(clock_skew_ms=0)

    def remove(self, kind: str) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if f.kind != kind]
        self._changed()

    def refuse_seconds(self) -> float:
        """How long the active refusal lasts before it lifts itself (0: until cleared)."""
        with self._lock:
            return max((f.seconds for f in self._faults if f.kind == "refuse"), default=0.0)

    def _changed(self) -> None:
        for callback in list(self.on_change):
            callback()

    @property
    def refusing(self) -> bool:
        with self._lock:
            return any(f.kind == "refuse" and f.count != 0 for f in self._faults)

    def draw(self, path: str) -> Fault | None:
        """The fault this request suffers, if any (at most one)."""
        with self._lock:
            for fault in self._faults:
                if fault.kind == "refuse" or fault.count == 0 or not path.startswith(fault.path):
                    continue
                if self._random.random() < fault.rate:
                    if fault.count is not None:
                        fault.count -= 1
                    self.fired[fault.kind] += 1
                    return fault
        return None

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "faults": [asdict(f) for f in self._faults],
                "clock_skew_ms": self.clock_skew_ms,
                "fired": dict(self.fired),
            }

    def load(self, document: object) -> None:
        """Sets faults from {"faults": [...], "clock_skew_ms": n, "seed": n} or a bare list."""
        if isinstance(document, list):
            document = {"faults": document}
        if not isinstance(document, dict):
            raise FaultSpecError("faults must be a JSON object or list")
        unknown = set(document) - {"faults", "clock_skew_ms", "seed"}
        if unknown:
            raise FaultSpecError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        items = document.get("faults", [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise FaultSpecError("'faults' must be a list of objects")
        try:
            faults = [Fault(**item) for item in items]
        except TypeError as error:
            raise FaultSpecError(f"a fault has an unknown or missing field: {error}") from None
        skew, seed = document.get("clock_skew_ms"), document.get("seed")
        for name, value in (("clock_skew_ms", skew), ("seed", seed)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise FaultSpecError(f"{name} must be a whole number: {value!r}")
        self.set(*faults, clock_skew_ms=skew, seed=seed)

    def load_json(self, text: str) -> None:
        try:
            document = json.loads(text)
        except ValueError as error:
            raise FaultSpecError(f"faults are not JSON: {error}") from None
        self.load(document)


def middleware(faults: Faults):
    """The outermost middleware: decides each request's fault before anything else runs."""

    @web.middleware
    async def inject(request: web.Request, handler):
        fault = faults.draw(request.path)
        if fault is None:
            return await handler(request)
        if fault.kind == "drop_request":
            request.transport.abort()
            return web.Response(status=204)  # never written: the connection is gone
        if fault.kind == "error_500":
            return internal("injected fault: 500").response()
        if fault.kind == "unavailable_503":
            return unavailable(max(1, round(fault.seconds))).response()
        if fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            return await handler(request)
        response = await handler(request)
        if fault.kind == "drop_reply":
            request.transport.abort()
            return response
        return await _dribble(request, response, fault)

    return inject


async def _dribble(request: web.Request, response: web.StreamResponse, fault: Fault):
    """close_mid_body and slow: the body goes out in pieces (then, for the first, stops)."""
    body = getattr(response, "body", None)
    if not isinstance(body, bytes) or not body:
        return response
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    if fault.kind == "close_mid_body":
        await stream.write(body[: len(body) // 2])
        request.transport.abort()
        return stream
    pieces = 8
    step = -(-len(body) // pieces)
    for start in range(0, len(body), step):
        await stream.write(body[start : start + step])
        await asyncio.sleep(fault.seconds / pieces)
    await stream.write_eof()
    return stream
