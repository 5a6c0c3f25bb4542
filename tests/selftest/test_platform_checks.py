"""Selftest against the real platform simulator (HTTPS + mTLS on 127.0.0.1): reachable with
verified signed time, a skewed clock fails, an unreachable platform fails, a revoked
certificate fails with the platform's reason."""

from __future__ import annotations

import time

import pytest

from terminal.cli import main
from terminal.provision.layout import DEVICE_FILE, under
from terminal.selftest.report import exit_code
from terminal.selftest.runner import Inputs, run
from terminal.sim.platform.server import PlatformServer
from tests.provision.test_provision_root import provision


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    with PlatformServer(tmp_path_factory.mktemp("platform")) as server:
        assert main(provision(server, root, "--code", server.new_code())) == 0
        yield root, server


def selftest(root, offset_ms=0, ntp=False, env=None):
    now = int(time.time() * 1000) + offset_ms
    results = run(
        Inputs(
            device_file=under(root, DEVICE_FILE),
            env=env or {},
            now_ms=now,
            wall_ms=lambda: int(time.time() * 1000) + offset_ms,
            root=root,
            ntp=lambda: ntp,
        )
    )
    return {r.check: r for r in results}, results


def test_platform_reached_and_clock_agrees(tree):
    root, _ = tree
    by_check, results = selftest(root)
    assert by_check["platform"].status == "ok"
    assert by_check["platform"].facts["rtt_ms"] >= 0
    assert by_check["clock"].status == "ok"  # NTP says no, the platform's signed time agrees
    assert exit_code(results) == 0


def test_a_skewed_clock_fails(tree):
    root, _ = tree
    by_check, results = selftest(root, offset_ms=-90_000, ntp=True)
    assert by_check["clock"].status == "fail"
    assert by_check["clock"].facts["skew_ms"] > 85_000
    assert "timedatectl" in by_check["clock"].fix_en
    assert exit_code(results) == 1


def test_an_unreachable_platform_fails(tree):
    root, _ = tree
    closed = "https://127.0.0.1:9"  # discard port: nothing listens
    by_check, results = selftest(root, env={"QR_TERMINAL__PLATFORM__URL": closed})
    assert by_check["platform"].status == "fail"
    assert "127.0.0.1:9" in by_check["platform"].en
    assert by_check["clock"].status == "fail"  # and nothing else vouches for the clock
    assert exit_code(results) == 1


def test_a_plain_http_platform_url_fails(tree):
    root, _ = tree
    by_check, _ = selftest(root, env={"QR_TERMINAL__PLATFORM__URL": "http://127.0.0.1:9"})
    assert by_check["platform"].status == "fail"
    assert "https://" in by_check["platform"].en


def test_platform_key_rotation_is_followed(tree):
    """Signed time by a key provisioning never saw: the keys are fetched once and it verifies."""
    root, server = tree
    server.call(lambda platform: platform.keys.rotate(platform.clock.now_ms()))
    server.call(lambda platform: platform.keys.rotate(platform.clock.now_ms()))
    by_check, _ = selftest(root)
    assert by_check["platform"].status == "ok"


def test_a_revoked_certificate_fails_with_the_platforms_reason(tmp_path):
    from cryptography import x509

    root = tmp_path / "root"
    root.mkdir()
    with PlatformServer(tmp_path / "platform") as server:
        assert main(provision(server, root, "--code", server.new_code())) == 0
        cert = x509.load_pem_x509_certificate(
            (root / "var/lib/qr-terminal/device-cert.pem").read_bytes()
        )
        assert server.call(lambda platform: platform.revoke(format(cert.serial_number, "x")))
        by_check, results = selftest(root)
    assert by_check["platform"].status == "fail"
    assert "revoked" in by_check["platform"].en
    assert exit_code(results) == 1


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda answer: answer | {"time_ms": answer["time_ms"] + 60_000}, "differs from the time"),
        (lambda answer: answer | {"jws": answer["jws"][:-4] + "AAAA"}, "signed time"),
        (lambda answer: {"time_ms": answer["time_ms"]}, "malformed"),
    ],
)
def test_signed_time_is_judged_by_the_sync_rules(tree, monkeypatch, change, said):
    """The selftest trusts the platform's time exactly when sync would (review 2.1)."""
    from terminal.sync.client import PlatformClient

    root, _ = tree
    real = PlatformClient.signed_time
    monkeypatch.setattr(PlatformClient, "signed_time", lambda self, n: change(real(self, n)))
    by_check, results = selftest(root)
    assert by_check["platform"].status == "fail"
    assert said in by_check["platform"].en
    assert "not trusted" in by_check["platform"].fix_en
    assert exit_code(results) == 1
