"""A ledger on a real SQLite file in a temporary folder, with a certificate for verifying."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

import terminal
from terminal.core.benefits import Benefits
from terminal.core.offline import ClockState
from terminal.ledger.store import Ledger
from terminal.signing import DeviceKey
from terminal.sim.ca import SimCA

T0 = 1_795_000_000_000
DEVICE = "D-TEST-0001"
NOBODY = 65534


def clock(offset_ms: int = 0, synced: bool = True) -> ClockState:
    return ClockState(now_ms=T0 + offset_ms, synced_since_boot=synced, last_trusted_ms=T0)


def open_ledger(folder: Path, key: DeviceKey | None = None) -> Ledger:
    return Ledger(folder / "terminal.db", key or DeviceKey.generate(), DEVICE)


def certificate_key(key: DeviceKey):
    ca = SimCA(datetime.datetime.fromtimestamp(T0 / 1000, datetime.UTC))
    pem = ca.issue(key.csr("SERIAL-1"), DEVICE)
    return x509.load_pem_x509_certificate(pem).public_key()


def write_pki(
    folder: Path, key: DeviceKey, device: str = DEVICE, *, ca_at_ms: int = T0, days: int = 825
) -> tuple[Path, Path]:
    """A platform CA made at `ca_at_ms` and the device certificate it issues for `key`, written
    as cert.pem and ca.pem in `folder`."""
    ca = SimCA(datetime.datetime.fromtimestamp(ca_at_ms / 1000, datetime.UTC))
    cert, authority = folder / "cert.pem", folder / "ca.pem"
    cert.write_bytes(ca.issue(key.csr("SERIAL-1"), device, days=days))
    authority.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    return cert, authority


def listing(folder: Path) -> dict[str, str]:
    """Every file in `folder` with its size and content hash."""
    return {
        path.name: f"{path.stat().st_size}:{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}"
        for path in sorted(folder.iterdir())
    }


def stopped_terminal(folder: Path, sales: int = 3) -> DeviceKey:
    """A journal whose terminal shut down cleanly: the database alone, no -wal or -shm, readable
    by all. Returns the key that signed it."""
    ledger = open_ledger(folder)
    for n in range(sales):
        sale(ledger, 1000 + n, n)
    ledger.close()
    for path in folder.iterdir():
        path.chmod(0o644)
    return ledger.key


def pulled_card(card: Path, source: Path, *, with_shm: bool = True) -> tuple[int, DeviceKey]:
    """What a card pulled from a running terminal holds: the database, its -wal with the newest
    records (and its -shm), copied while the terminal's ledger is open. Returns the number of
    records and the key that signed them."""
    ledger = open_ledger(source)
    sale(ledger, 1000, 0)
    ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # one record in the database file
    for n in range(1, 4):
        sale(ledger, 1000 + n, n)  # three more only in the -wal
    card.mkdir(mode=0o755)
    for suffix in ("", "-wal", "-shm") if with_shm else ("", "-wal"):
        shutil.copyfile(source / f"terminal.db{suffix}", card / f"terminal.db{suffix}")
        (card / f"terminal.db{suffix}").chmod(0o644)
    ledger.close()
    return 4, ledger.key


def read_only(folder: Path) -> None:
    """Not writable by 'nobody', nor by its owner when the tests do not run as root."""
    folder.chmod(0o555)


def writable_again(folder: Path) -> None:
    """Undoes read_only on `folder` and the folders in it, so that a fixture can remove them
    when the tests do not run as root."""
    for path in (folder, *folder.iterdir()):
        if path.is_dir():
            path.chmod(0o755)


def sale(ledger: Ledger, amount: int, n: int = 0, offline: bool = False, token: str | None = None):
    return ledger.record_sale(
        amount_won=amount,
        method="cpm" if token or offline else "mpm",
        benefits=Benefits(amount // 10, amount // 50, amount // 100),
        clock=clock(n * 1000),
        offline=offline,
        token_id=token,
    )


def run_as_nobody(work: Callable[[], str]) -> str:
    """Runs `work` as the unprivileged user 'nobody' in a forked child when the tests run as
    root (root ignores file modes), else in this process; returns what it returned, or
    "raised: <repr>"."""
    if os.geteuid() != 0:
        return _run_catching(work)
    from terminal.config.loader import config_dir

    needed = (config_dir(), Path(terminal.__file__).parent)  # found before the fork, as root
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            unreachable = _unreachable_for_nobody(needed)
            answer = f"{SKIP}{unreachable}" if unreachable else _run_catching(work)
            os.write(write_end, answer.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        result = pipe.read().decode()
    os.waitpid(pid, 0)
    if result.startswith(SKIP):
        pytest.skip(result[len(SKIP) :])
    return result


SKIP = "skip: "


def _unreachable_for_nobody(needed: tuple[Path, ...]) -> str | None:
    """Why 'nobody' cannot run the terminal's code from here, or None: a checkout inside a
    private folder (a 0700 home or mktemp directory) hides its config and code from that user."""
    for folder in needed:
        if not os.access(folder, os.R_OK | os.X_OK):
            return (
                f"user 'nobody' cannot read {folder} (a parent folder is private): "
                "the permission case needs a checkout every user can read"
            )
    return None


def _run_catching(work: Callable[[], str]) -> str:
    try:
        return work()
    except BaseException as error:  # handed back to the test as text
        return f"raised: {error!r}"


def cli_as_nobody(argv: list[str]) -> tuple[int, str]:
    """`qr-terminal ARGV` run as 'nobody': (exit code, stderr)."""

    def work() -> str:
        from terminal.cli import main

        sys.stderr = io.StringIO()
        code = main(argv)
        return f"{code}\n{sys.stderr.getvalue()}"

    code, _, err = run_as_nobody(work).partition("\n")
    return int(code) if code.isdigit() else -1, err or code


def cli_output_as_nobody(argv: list[str]) -> tuple[int, str, str]:
    """`qr-terminal ARGV` run as 'nobody': (exit code, stdout, stderr); exit -1 and the error
    as stderr if it raised."""

    def work() -> str:
        from terminal.cli import main

        streams = sys.stdout, sys.stderr
        out, err = sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
        try:  # restored: without root this runs in the test's own process
            code = main(argv)
        finally:
            sys.stdout, sys.stderr = streams
        return json.dumps([code, out.getvalue(), err.getvalue()])

    result = run_as_nobody(work)
    if result.startswith("raised: "):
        return -1, "", result
    code, out, err = json.loads(result)
    return code, out, err
