"""A real simulator on 127.0.0.1 (one per test module) and enrolled devices with real
certificates; every test ends by checking the server produced nothing outside the spec."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from terminal.signing import DeviceKey
from terminal.sim.platform import PlatformServer
from terminal.sim.platform.client import DeviceClient, Enrolled, enroll, tls_context
from terminal.sim.platform.clock import Clock


class MovableTime:
    """The wall clock plus an offset a test moves (the simulator's clock source)."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Device:
    enrolled: Enrolled
    client: DeviceClient

    @property
    def device_id(self) -> str:
        return self.enrolled.device_id

    @property
    def key(self) -> DeviceKey:
        return self.enrolled.key

    def get(self, path: str, headers: dict | None = None):
        return self.client.request("GET", path, headers=headers)

    def post(self, path: str, body: object = None):
        return self.client.request("POST", path, body)


@pytest.fixture(scope="module")
def moving_time() -> MovableTime:
    return MovableTime()


@pytest.fixture(scope="module")
def server(tmp_path_factory, moving_time):
    with PlatformServer(tmp_path_factory.mktemp("platform"), clock=Clock(moving_time)) as running:
        yield running


@pytest.fixture(autouse=True)
def _spec_kept(request):
    """After each test: no handler failed and no response left docs/openapi.yaml; faults off."""
    yield
    if "server" in request.fixturenames:
        running = request.getfixturevalue("server")
        errors = list(running.errors)
        running.faults.clear()
        running.clear_errors()
        assert not errors, errors


def make_device(server, serial: str = "SERIAL-T") -> Device:
    enrolled = enroll(server.url, server.ca_path, server.new_code(), serial)
    return Device(enrolled, enrolled.client(server.url, server.ca_path))


@pytest.fixture
def device(server):
    made = make_device(server)
    yield made
    made.client.close()


def anonymous(server) -> DeviceClient:
    """A TLS client that trusts the simulator but presents no certificate."""
    return DeviceClient(server.url, tls_context(server.ca_path))
