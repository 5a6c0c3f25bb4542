"""The platform simulator: a real HTTPS server (aiohttp) with mutual TLS, its own CA and SQLite.

Start one in a background thread (tests, benches, scripts):

    from terminal.sim.platform import PlatformServer, Fault

    with PlatformServer(tmp_path / "platform") as server:    # 127.0.0.1, a free port
        server.url                 # "https://127.0.0.1:PORT" (device API, docs/openapi.yaml)
        server.ca_path             # the CA to pin; it also signed the server certificate
        server.admin_url           # "http://127.0.0.1:PORT" (loopback admin, docs/protocol.md)
        code = server.new_code()   # a one-time enrollment code
        server.faults.set(Fault("drop_reply", rate=0.1, count=100))   # at run time
        server.call(lambda platform: ...)   # run on the server's loop (in-process API)
        assert not server.errors   # handler tracebacks and responses outside the spec

`enroll_device(server, key, serial)` (terminal.sim.platform.enroll) returns a device
certificate made through the real enrollment endpoint, for a `requests` client cert.
`bench_upload(...)` (terminal.sim.platform.bench) measures the records/s it accepts.
Every request and response is validated against docs/openapi.yaml (openapi-core).
"""

from terminal.sim.platform.faults import Fault, Faults
from terminal.sim.platform.server import PlatformServer

__all__ = ["Fault", "Faults", "PlatformServer"]
