"""The printed QR stand's payload: static, no amount, the stand's serial, signed by the device."""

from __future__ import annotations

import pytest

from terminal.core import emv
from terminal.core.base64url import b64url_decode
from terminal.core.sale_qr import signed_message
from terminal.core.session.stand import Stand, StandError, build_stand_qr
from terminal.signing import DeviceKey

KEY = DeviceKey.generate()
STAND = Stand(
    "kr.incheon.eeum", "M0000000001", "SIM-0000001", "5812", "HYETAEK PLUS BUNSIK", "INCHEON",
    "혜택플러스 분식", "인천", 7, KEY.kid,
)  # fmt: skip


def test_static_unpriced_numbered_and_signed():
    payload = build_stand_qr(STAND, KEY.sign)
    objects = emv.parse(payload, strict=True)
    values = {o.id: o for o in objects}
    assert values["01"].text() == "11" and "54" not in values
    assert values["62"].sub("05") == "STAND-000007"
    template, tail = values["80"], values["81"]
    assert template.sub("01") == "0" and template.sub("02") == KEY.kid
    signature = b64url_decode(template.sub("03") + tail.sub("01"))
    message = signed_message(objects[:-2], template.value[:3])
    assert KEY.verify(message, signature)
    other = DeviceKey.generate()
    assert not other.verify(message, signature)


def test_the_signature_covers_the_merchant():
    payload = build_stand_qr(STAND, KEY.sign)
    forged = payload.replace("M0000000001", "M0000000002")
    objects = emv.parse(forged[:-4] + emv.crc_hex(forged[:-4]), strict=True)
    values = {o.id: o for o in objects}
    signature = b64url_decode(values["80"].sub("03") + values["81"].sub("01"))
    assert not KEY.verify(signed_message(objects[:-2], values["80"].value[:3]), signature)


@pytest.mark.parametrize("serial", [0, 1_000_000])
def test_serial_out_of_range(serial):
    from dataclasses import replace

    with pytest.raises(StandError, match="serial"):
        build_stand_qr(replace(STAND, serial=serial), KEY.sign)
