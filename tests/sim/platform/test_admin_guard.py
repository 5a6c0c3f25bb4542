"""The admin port cannot be driven from a web page (review finding 9): a cross-site "simple"
request (text/plain or form body, no preflight) and a DNS-rebound Host are refused before any
handler runs, and nothing changes."""

from __future__ import annotations

import http.client
import json

import pytest

from terminal.sim.platform.wallets import balance


def _send(server, method: str, path: str, body: bytes, headers: dict) -> tuple[int, dict]:
    port = int(server.admin_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def _wallet_count(server) -> int:
    return server.call(lambda p: p.db.execute("SELECT count(*) FROM wallets").fetchone()[0])


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_cross_site_simple_post_is_refused_and_changes_nothing(server, content_type):
    before, version = _wallet_count(server), server.call(lambda p: p.config_version())
    for path, body in (
        ("/admin/wallets", b'{"balance": 100000000}'),
        ("/admin/config", b'{"offline": {"max_amount_won": 10000000}}'),
        ("/admin/codes", b""),
    ):
        status, answer = _send(server, "POST", path, body, {"Content-Type": content_type})
        assert status == 415 and "application/json" in answer["error"]
    assert _wallet_count(server) == before
    assert server.call(lambda p: p.config_version()) == version


def test_a_post_without_a_content_type_is_refused(server):
    status, _ = _send(server, "POST", "/admin/keys/rotate", b"", {})
    assert status == 415


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:{port}", "127.0.0.1"])
def test_a_dns_rebound_host_is_refused_for_reads_and_writes(server, host):
    port = server.admin_url.rsplit(":", 1)[1]
    headers = {"Host": host.format(port=port), "Content-Type": "application/json"}
    before = _wallet_count(server)
    assert _send(server, "POST", "/admin/wallets", b'{"balance": 5}', headers)[0] == 403
    assert _send(server, "GET", "/admin/faults", b"", headers)[0] == 403
    assert _wallet_count(server) == before


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_loopback_json_requests_are_served(server, name):
    port = server.admin_url.rsplit(":", 1)[1]
    headers = {"Host": f"{name}:{port}", "Content-Type": "application/json"}
    status, answer = _send(server, "POST", "/admin/wallets", b'{"balance": 5}', headers)
    assert status == 201
    assert server.call(balance, answer["wallet_ref"]) == 5
    assert _send(server, "GET", "/admin/faults", b"", {"Host": f"{name}:{port}"})[0] == 200
