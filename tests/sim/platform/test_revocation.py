"""Revocation reaches every certificate of the device (review finding 4): a stolen certificate
and key renewed into a certificate with the thief's own key do not outlive the operator's
revocation of the stolen serial."""

from __future__ import annotations

import json
import urllib.request

from cryptography import x509

from terminal.signing import DeviceKey
from terminal.sim.platform.client import DeviceClient, tls_context

from .conftest import make_device


def _serial(pem: bytes | str) -> str:
    text = pem.encode() if isinstance(pem, str) else pem
    return format(x509.load_pem_x509_certificate(text).serial_number, "x")


def _renewed_client(server, device) -> tuple[DeviceClient, str]:
    """What a thief holding the device's certificate and key can do: renew with a new key."""
    thief_key = DeviceKey.generate()
    answer = device.post(
        "/v1/certificates", {"csr": thief_key.csr("SERIAL-T", device.device_id).decode()}
    )
    assert answer.status == 201
    pem = answer.json()["certificate"]
    client = DeviceClient(server.url, tls_context(server.ca_path, pem.encode(), thief_key))
    assert client.request("GET", "/v1/keys").status == 200
    return client, _serial(pem)


def _admin_post(server, path: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        server.admin_url + path, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def _refused(client: DeviceClient) -> str:
    answer = client.request("GET", "/v1/keys")
    assert answer.status == 403
    return answer.json()["type"].removeprefix("urn:qr-terminal:problem:")


def test_revoking_the_stolen_serial_also_revokes_the_certificate_renewed_from_it(server):
    device = make_device(server, "SERIAL-R")
    thief, renewed_serial = _renewed_client(server, device)
    stolen_serial = _serial(device.enrolled.certificate_pem)
    assert _admin_post(server, f"/admin/certificates/{stolen_serial}/revoke")[0] == 200
    assert _refused(thief) == "show:certificate_revoked"
    assert _refused(device.client) == "show:certificate_revoked"
    # Nor can the thief renew once more with the certificate it made.
    again = thief.request(
        "POST", "/v1/certificates", {"csr": DeviceKey.generate().csr("X").decode()}
    )
    assert again.status == 403
    revoked = server.call(
        lambda p: p.db.execute(
            "SELECT serial FROM certificates WHERE device_id = ? AND revoked_ms IS NOT NULL",
            (device.device_id,),
        ).fetchall()
    )
    assert {row[0] for row in revoked} == {stolen_serial, renewed_serial}
    thief.close()
    device.client.close()


def test_the_operator_can_revoke_a_device_by_its_id(server):
    device = make_device(server, "SERIAL-Q")
    thief, renewed_serial = _renewed_client(server, device)
    status, answer = _admin_post(server, f"/admin/devices/{device.device_id}/revoke")
    assert status == 200
    assert set(answer["revoked"]) == {_serial(device.enrolled.certificate_pem), renewed_serial}
    assert _refused(thief) == "show:certificate_revoked"
    assert _refused(device.client) == "show:certificate_revoked"
    thief.close()
    device.client.close()
