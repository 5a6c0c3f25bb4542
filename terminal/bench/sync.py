"""`scripts/bench sync`: the sync against the real platform simulator over HTTPS + mTLS on
loopback, as ratios against baselines measured in the same run, contestants shuffled per round.

- drain: 2,000 queued records from a real ledger (claim, upload, settle) in batches, against one
  request per record on a kept-alive session and one request per record on a new connection
  (each contestant drains its own copy of the same ledger; the platform forgets the device's
  records before each run, outside the timing).
- CPM authorization round trip on a warm connection: `PlatformClient.authorize` against the bare
  same request (http.client, the same JSON body, no parsing beyond the status) and against a bare
  small GET, so the ratio is what our own code adds.
"""

from __future__ import annotations

import http.client
import json
import random
import shutil
import ssl
import statistics
import tempfile
import time
from pathlib import Path

RECORDS = 2000
DRAIN_TARGETS = {"per record, new connection": 10.0, "per record, kept-alive": 3.0}
AUTH_TARGET = 5.0


class _Setup:
    """A running simulator, an enrolled device, and a ledger of RECORDS sales to copy."""

    def __init__(self, folder: Path, records: int = RECORDS):
        from terminal.core.benefits import Benefits
        from terminal.core.offline import ClockState
        from terminal.ledger.store import Ledger
        from terminal.signing import DeviceKey
        from terminal.sim.platform.server import PlatformServer
        from terminal.sync.client import enroll
        from terminal.sync.transport import TlsFiles

        self.folder, self.records = folder, records
        self.server = PlatformServer(folder / "platform", admin_port=None).start()
        self.key = DeviceKey.generate()
        enrolled = enroll(
            self.server.url, self.server.ca_path, self.server.new_code(), self.key.csr("BENCH")
        )
        self.device_id = enrolled.device_id
        self.key.save(folder / "device.key")
        (folder / "device.crt").write_text(enrolled.certificate)
        (folder / "ca.pem").write_text("".join(enrolled.ca_chain))
        self.tls = TlsFiles(folder / "ca.pem", folder / "device.crt", folder / "device.key")
        self.template = folder / "template.db"
        ledger = Ledger(self.template, self.key, self.device_id)
        clock = ClockState(1_795_000_000_000, True, 1_795_000_000_000)
        for n in range(records):
            ledger.record_sale(
                amount_won=1000 + n,
                method="mpm",
                benefits=Benefits(100, 20, 10),
                clock=clock,
                offline=False,
            )
        ledger.close()
        self.runs = 0

    def fresh_ledger(self):
        from terminal.ledger.store import Ledger

        self.runs += 1
        copy = self.folder / f"run{self.runs}.db"
        shutil.copy(self.template, copy)
        device = self.device_id
        self.server.call(
            lambda platform: platform.db.execute(
                "DELETE FROM records WHERE device_id = ?", (device,)
            )
        )
        return Ledger(copy, self.key, self.device_id)

    def client(self, *, new_connections: bool = False):
        from terminal.sync.client import PlatformClient
        from terminal.sync.transport import Timeouts

        client = PlatformClient.connect(self.server.url, self.tls, Timeouts(5, 30))
        if new_connections:
            # The server closes after each answer, so every request opens (and handshakes) anew.
            client.session.headers["Connection"] = "close"
        return client

    def context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.tls.ca))
        context.load_cert_chain(str(self.tls.cert), str(self.tls.key))
        return context

    def close(self) -> None:
        self.server.stop()


def _drain(setup: _Setup, batch_size: int, new_connections: bool = False) -> float:
    """Records per second for draining the whole outbox of a fresh copy of the ledger."""
    from terminal.sync.upload import Uploader

    ledger = setup.fresh_ledger()
    client = setup.client(new_connections=new_connections)
    uploader = Uploader(ledger, client, lambda: 0, batch_size=batch_size, batch_bytes=1 << 20)
    try:
        started = time.perf_counter()
        report = uploader.drain()
        seconds = time.perf_counter() - started
    finally:
        client.close()
        ledger.close()
    if report.accepted != setup.records:
        raise RuntimeError(f"drained {report.accepted} of {setup.records}: {report}")
    return setup.records / seconds


def bench_drain(setup: _Setup, rounds: int) -> dict[str, list[float]]:
    contestants = {
        "sync, batches of 50": lambda: _drain(setup, 50),
        "sync, batches of 500": lambda: _drain(setup, 500),
        "per record, kept-alive": lambda: _drain(setup, 1),
        "per record, new connection": lambda: _drain(setup, 1, new_connections=True),
    }
    results: dict[str, list[float]] = {name: [] for name in contestants}
    order = list(contestants)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            results[name].append(contestants[name]())
    return results


def bench_authorization(setup: _Setup, rounds: int, per_round: int = 20):
    """Round-trip samples (µs) per contestant, each on its own warm connection."""
    from terminal.core.ids import uuid7
    from terminal.sim.platform import wallets

    wallet = setup.server.call(wallets.open_wallet, 10**12)
    client = setup.client()
    bare = http.client.HTTPSConnection("127.0.0.1", setup.server.port, context=setup.context())
    headers = {"Content-Type": "application/json", "Accept": "application/json"}

    def tokens(count):
        return [setup.server.call(wallets.issue_token, wallet).qr_text for _ in range(count)]

    def new_id() -> str:
        return str(uuid7(time.time_ns() // 1_000_000, random.randbytes(10)))

    def ours(token):
        decision = client.authorize(new_id(), token, 1000)
        if not decision.approved:
            raise RuntimeError(f"authorization declined: {decision.reason}")

    def bare_same(token):
        body = {"transaction_id": new_id(), "token": token, "format": "qr", "amount": 1000}
        bare.request("POST", "/v1/authorizations", json.dumps(body), headers)
        response = bare.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"bare authorization: HTTP {response.status}")

    def bare_get(_token):
        bare.request("GET", "/v1/keys", headers={"Accept": "application/json"})
        response = bare.getresponse()
        response.read()

    contestants = {
        "PlatformClient.authorize": ours,
        "bare same POST (http.client)": bare_same,
        "bare GET /v1/keys (http.client)": bare_get,
    }
    samples: dict[str, list[float]] = {name: [] for name in contestants}
    for action in contestants.values():  # warm both connections
        action(tokens(1)[0])
    order = list(contestants)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            block = tokens(per_round)  # issued outside the timing
            for token in block:
                started = time.perf_counter()
                contestants[name](token)
                samples[name].append((time.perf_counter() - started) * 1e6)
    client.close()
    bare.close()
    return samples


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def bench_sync(repeat: int, records: int = RECORDS, auth_per_round: int = 20) -> None:
    """`repeat` (scripts/bench --repeat, default 50) scales the rounds: 3 drain rounds and 16
    authorization rounds of 20 by default."""
    drain_rounds = max(1, min(3, repeat // 15))
    auth_rounds = max(1, min(20, repeat // 3))
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as folder:
        setup = _Setup(Path(folder), records)
        try:
            _print_drain(bench_drain(setup, drain_rounds), drain_rounds, records)
            samples = bench_authorization(setup, auth_rounds, auth_per_round)
            _print_authorization(samples, auth_rounds)
        finally:
            setup.close()


def _print_drain(drained: dict[str, list[float]], rounds: int, records: int) -> None:
    print(f"\n## sync: draining {records:,} queued records over HTTPS + mTLS (loopback simulator)")
    print(f"{rounds} round(s), shuffled; records/s is the median of the rounds")
    base = statistics.median(drained["sync, batches of 50"])
    print(f"{'contestant':30} {'records/s':>10} {'sync(50) ×':>11}  target")
    for name, values in drained.items():
        rate = statistics.median(values)
        target = DRAIN_TARGETS.get(name)
        verdict = ""
        if target is not None:
            verdict = f"≥ {target:.0f}× {'ok' if base / rate >= target else 'MISSED'}"
        print(f"{name:30} {rate:10.0f} {base / rate:11.1f}  {verdict}")


def _print_authorization(auth: dict[str, list[float]], rounds: int) -> None:
    print(f"\n## sync: CPM authorization round trip on a warm connection ({rounds} rounds)")
    print(f"{'contestant':34} {'median µs':>10} {'p95 µs':>9} {'ours ×':>7}")
    ours = statistics.median(auth["PlatformClient.authorize"])
    for name, values in auth.items():
        median = statistics.median(values)
        print(f"{name:34} {median:10.0f} {_p95(values):9.0f} {ours / median:7.2f}")
    same = statistics.median(auth["bare same POST (http.client)"])
    bare = statistics.median(auth["bare GET /v1/keys (http.client)"])
    print(
        f"ours / bare same request: {ours / same:.2f}× (target ≤ {AUTH_TARGET:.0f}×: "
        f"{'ok' if ours / same <= AUTH_TARGET else 'MISSED'}); ours / bare small GET: "
        f"{ours / bare:.2f}×"
    )
