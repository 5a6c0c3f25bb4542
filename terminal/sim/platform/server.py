"""Wiring: the device API app (faults → spec check + identity → routes), the admin app, the
TLS listener that can be made to refuse connections, and `PlatformServer` (a server in a
background thread for tests, benches and scripts)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from terminal.sim.platform import (
    admin,
    authorizations,
    charges,
    enrollment,
    platform_info,
    refunds,
    stands,
    transactions,
)
from terminal.sim.platform import faults as fault_injection
from terminal.sim.platform.auth import identify
from terminal.sim.platform.clock import Clock
from terminal.sim.platform.faults import Faults
from terminal.sim.platform.problems import Problem, internal
from terminal.sim.platform.state import PLATFORM, Platform
from terminal.sim.platform.validation import BODY, MAX_BODY_BYTES, SPEC_PATH, SpecCheck

log = logging.getLogger(__name__)
ERRORS = web.AppKey("errors", list)
SHUTDOWN_SECONDS = 1.0


def spec_middleware(check: SpecCheck):
    """Identity, request validation and response validation around every /v1 handler."""

    @web.middleware
    async def middleware(request: web.Request, handler):
        route_error = request.match_info.http_exception
        if route_error is not None:
            name = "not_found" if route_error.status == 404 else "method_not_allowed"
            detail = f"no operation {request.method} {request.path}"
            return Problem(route_error.status, "park", name, detail).response()
        try:
            identify(request)
            request[BODY] = await check.check_request(request)
            response = await handler(request)
        except Problem as problem:
            response = problem.response()
        except Exception:
            request.app[ERRORS].append(traceback.format_exc())
            log.exception("handler failed on %s %s", request.method, request.path)
            response = internal().response()
        if not isinstance(response, web.Response):
            return response
        return check.check_response(request, response)

    return middleware


def device_app(platform: Platform, check: SpecCheck) -> web.Application:
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[fault_injection.middleware(platform.faults), spec_middleware(check)],
    )
    app[PLATFORM] = platform
    app[ERRORS] = []
    app[platform_info.SPEC_BYTES] = check.spec_bytes
    for module in (
        enrollment,
        transactions,
        charges,
        stands,
        authorizations,
        refunds,
        platform_info,
    ):
        app.router.add_routes(module.routes)
    return app


def admin_app(platform: Platform) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[PLATFORM] = platform
    app.router.add_routes(admin.routes)
    return app


class Runtime:
    """The running listeners on one event loop; `refuse` faults close and reopen the TLS one."""

    def __init__(self, platform: Platform, check: SpecCheck, host: str, port: int, admin_port):
        self.platform, self.check, self.host = platform, check, host
        self.port, self.admin_port = port, admin_port
        self._site: web.TCPSite | None = None
        self._refuse_timer: asyncio.TimerHandle | None = None
        self._refusal: asyncio.Future | None = None

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.app = device_app(self.platform, self.check)
        self.runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
        await self.runner.setup()
        self._context = self.platform.pki.server_context()
        await self._open()
        self.admin_runner = None
        if self.admin_port is not None:
            self.admin_runner = web.AppRunner(admin_app(self.platform), access_log=None)
            await self.admin_runner.setup()
            site = web.TCPSite(self.admin_runner, "127.0.0.1", self.admin_port)
            await site.start()
            self.admin_port = site._server.sockets[0].getsockname()[1]
        self.platform.faults.on_change.append(self._faults_changed)
        self._faults_changed()

    async def _open(self) -> None:
        site = web.TCPSite(
            self.runner, self.host, self.port, ssl_context=self._context, reuse_address=True
        )
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # the real one when asked for 0
        self._site = site

    def _faults_changed(self) -> None:
        """Called from any thread: applies skew now, refusal on the loop."""
        self.platform.clock.skew_ms = self.platform.faults.clock_skew_ms
        self.loop.call_soon_threadsafe(self._schedule_refusal)

    def _schedule_refusal(self) -> None:
        self._refusal = asyncio.ensure_future(self._apply_refusal())

    async def settled(self) -> None:
        """Returns once the last fault change has reached the listener (opened or closed)."""
        if self._refusal is not None:
            await self._refusal

    async def _apply_refusal(self) -> None:
        faults = self.platform.faults
        if faults.refusing and self._site is not None:
            await self._site.stop()
            self._site = None
            seconds = faults.refuse_seconds()
            if seconds > 0:
                self._refuse_timer = self.loop.call_later(seconds, faults.remove, "refuse")
        elif not faults.refusing and self._site is None:
            if self._refuse_timer is not None:
                self._refuse_timer.cancel()
            await self._open()

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            self.platform.faults.on_change.remove(self._faults_changed)
        for charge_id in list(self.platform.charge_events):
            self.platform.charge_changed(charge_id)  # long-polls answer now instead of later
        await self.runner.cleanup()
        if self.admin_runner is not None:
            await self.admin_runner.cleanup()
        self.platform.close()


class PlatformServer:
    """The simulator on 127.0.0.1 in a background thread. See the package docstring."""

    def __init__(
        self,
        state_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        admin_port: int | None = 0,
        faults: Faults | None = None,
        clock: Clock | None = None,
        spec_path: Path = SPEC_PATH,
    ):
        self.state_dir = Path(state_dir)
        self.faults = faults or Faults()
        self.clock = clock or Clock()
        self.check = SpecCheck.load(spec_path)
        self._address = (host, port, admin_port)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> PlatformServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                platform = Platform.open(self.state_dir, self.clock, self.faults)
                self.runtime = Runtime(platform, self.check, *self._address)
                loop.run_until_complete(self.runtime.start())
            except BaseException as error:
                failure.append(error)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.runtime.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="platform-simulator", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._thread = None

    def __enter__(self) -> PlatformServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def platform(self) -> Platform:
        return self.runtime.platform

    @property
    def port(self) -> int:
        return self.runtime.port

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.runtime.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.runtime.admin_port}"

    @property
    def ca_path(self) -> Path:
        return self.platform.pki.ca_path

    @property
    def errors(self) -> list[str]:
        """Tracebacks of handlers that failed, and responses that left the spec."""
        return self.runtime.app[ERRORS] + self.check.violations

    def settle(self) -> None:
        """Waits until a fault change made from this thread has reached the listener."""
        assert self._loop is not None, "the server is not running"
        asyncio.run_coroutine_threadsafe(self.runtime.settled(), self._loop).result()

    def clear_errors(self) -> None:
        self.runtime.app[ERRORS].clear()
        self.check.violations.clear()

    def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """Runs function(platform, *args) on the server's loop (the only thread that touches the
        database) and returns its result."""

        async def on_loop():
            return function(self.platform, *args)

        assert self._loop is not None, "the server is not running"
        return asyncio.run_coroutine_threadsafe(on_loop(), self._loop).result()

    def new_code(self) -> str:
        return self.call(enrollment.new_code)[0]


async def serve_forever(
    state_dir: Path,
    host: str,
    port: int,
    admin_port: int | None,
    faults: Faults,
    announce: Callable[[Runtime], None],
) -> None:
    """`qr-terminal platform serve`: runs until Ctrl-C, SIGINT or SIGTERM (scripts and service
    managers stop it with SIGTERM; a shell's background job may have SIGINT ignored)."""
    platform = Platform.open(state_dir, Clock(), faults)
    runtime = Runtime(platform, SpecCheck.load(), host, port, admin_port)
    await runtime.start()
    announce(runtime)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await runtime.stop()
