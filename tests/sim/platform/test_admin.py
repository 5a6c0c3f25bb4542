"""The loopback admin endpoint: codes, key rotation, revocation, config pushes, device view."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from cryptography import x509

from terminal.sim.platform.client import enroll


def _admin(server, method: str, path: str, body: object | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        server.admin_url + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_a_code_from_the_admin_endpoint_enrolls_a_device(server):
    status, answer = _admin(server, "POST", "/admin/codes")
    assert status == 201
    enrolled = enroll(server.url, server.ca_path, answer["code"], "SERIAL-ADMIN")
    status, view = _admin(server, "GET", f"/admin/devices/{enrolled.device_id}")
    assert status == 200 and view["merchant_id"] == "M0000000001"
    assert [c["revoked"] for c in view["certificates"]] == [False]
    assert view["jwks"]["keys"][0]["kid"] == enrolled.key.kid
    assert _admin(server, "GET", "/admin/devices/SIM-NONE")[0] == 404


def test_revocation_from_the_admin_endpoint_locks_the_device_out(server, device):
    serial = format(
        x509.load_pem_x509_certificate(device.enrolled.certificate_pem).serial_number, "x"
    )
    assert _admin(server, "POST", f"/admin/certificates/{serial}/revoke")[0] == 200
    assert _admin(server, "POST", f"/admin/certificates/{serial}/revoke")[0] == 404  # already
    device.client.close()
    assert device.get("/v1/keys").status == 403


def test_rotation_and_config_pushes_show_up_in_the_device_api(server, device):
    before = device.get("/v1/config").json()["version"]
    status, pushed = _admin(server, "POST", "/admin/config", {"offline": {"max_count": 5}})
    assert status == 200 and pushed["version"] == before + 1
    assert device.get("/v1/config").json()["offline"]["max_count"] == 5
    assert _admin(server, "POST", "/admin/config", {"version": 99})[0] == 400
    status, rotated = _admin(server, "POST", "/admin/keys/rotate")
    assert status == 200 and device.get("/v1/keys").json()["keys"][0]["kid"] == rotated["kid"]


def test_bad_admin_requests_are_400_not_crashes(server):
    assert _admin(server, "POST", "/admin/wallets", {"balance": -1})[0] == 400
    assert _admin(server, "POST", "/admin/wallets/ffff/tokens")[0] == 404
    assert _admin(server, "POST", "/admin/charges/X/pay", {"payload": 1})[0] == 400
