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

More in this package for tests and benches:

    from terminal.sim.platform.client import enroll        # stdlib HTTPS client
    enrolled = enroll(server.url, server.ca_path, server.new_code(), "SERIAL-1")
    enrolled.device_id, enrolled.certificate_pem, enrolled.key   # a real device certificate
    enrolled.client(server.url, server.ca_path).request("GET", "/v1/keys")

    from terminal.sim.platform.bench import signed_records, bench_upload, bench_platform
    signed_records(key, device_id, 100)     # chained, device-signed records: [{id, jws, seq}]
    bench_upload(records=4000, batch=500)   # records/s one upload run achieves
    bench_platform()                        # `scripts/bench platform`: the table with ratios

    server.call(wallets.open_wallet, 50_000); server.call(wallets.issue_token, wallet_ref)
    server.call(charges.pay, charge_id, payload, wallet_ref)   # what the wallet does
    server.platform.on_wait.append(callback)   # told when a long-poll starts waiting

Every request and response is validated against docs/openapi.yaml (openapi-core, with
jsonschema-rs as the fast path for bodies that pass: fastschema.py); the spec and the flows
are in docs/protocol.md.
"""

from terminal.sim.platform.faults import Fault, Faults
from terminal.sim.platform.server import PlatformServer

__all__ = ["Fault", "Faults", "PlatformServer"]
