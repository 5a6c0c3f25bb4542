"""One signature reader for the sale QR and the stand: a data object inserted anywhere, above all
into 80 or 81 where no signature covers it, is refused by both readers (code review 2, M2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal.core import emv
from terminal.core.emv import DataObject
from terminal.core.sale_qr import (
    SaleQr,
    SaleQrError,
    SignatureLayoutError,
    build_sale_qr,
    read_sale_qr,
    read_signature,
    verify_sale_qr,
)
from terminal.core.session.stand import (
    Stand,
    StandError,
    build_stand_qr,
    read_stand_qr,
    verify_stand_qr,
)
from tests.keys import device_key

NOW = 1_795_000_000
GUID, MERCHANT, TERMINAL = "kr.incheon.eeum", "M0000000001", "SIM-0000001"
# A short key id leaves room in 80 (at most 99 characters) for an inserted object; with a
# 12-character key id a sale's 80 holds 96 and nothing more fits.
KID = "k1"
SALE = SaleQr(
    GUID, MERCHANT, TERMINAL, "5812", 4500, "HYETAEK PLUS BUNSIK", "INCHEON",
    "혜택플러스 분식", "인천", "06H02P585HFFCA70P7X7", TERMINAL, NOW + 300, KID,
)  # fmt: skip
STAND = Stand(
    GUID, MERCHANT, TERMINAL, "5812", "HYETAEK PLUS BUNSIK", "INCHEON", "혜택플러스 분식", "인천",
    7, KID,
)  # fmt: skip


def _check(merchant_id, terminal_id, kid, message, signature):
    """The device key, known as KID and bound to MERCHANT and TERMINAL."""
    if (merchant_id, terminal_id, kid) != (MERCHANT, TERMINAL, KID):
        raise LookupError(kid)
    return device_key().verify(message, signature)


def _sale_refused(payload: str) -> None:
    with pytest.raises(SaleQrError):
        read_sale_qr(payload)
    with pytest.raises(SaleQrError):
        verify_sale_qr(payload, _check, NOW)


def _stand_refused(payload: str) -> None:
    with pytest.raises(StandError):
        read_stand_qr(payload)
    with pytest.raises(StandError):
        verify_stand_qr(payload, _check)


# (payload made once per run, how its reader refuses it)
KINDS = {
    "sale": (build_sale_qr(SALE, device_key().sign), _sale_refused),
    "stand": (build_stand_qr(STAND, device_key().sign), _stand_refused),
}


def _with_crc(objects: emv.Objects) -> str:
    """The payload text of `objects` with a fresh CRC, unchecked: an attacker's edit."""
    body = emv.encode_unchecked_prefix(objects) + "6304"
    return body + emv.crc_hex(body)


def _inserted(payload: str, parent: str | None, position: int, new: DataObject) -> str:
    """`payload` with `new` inserted at `position` among the top-level objects (parent None) or
    among the sub-objects of template `parent`."""
    objects = list(emv.parse(payload, strict=True))
    if parent is None:
        objects.insert(position, new)
    else:
        index = [o.id for o in objects].index(parent)
        children = list(objects[index].value)
        children.insert(position, new)
        objects[index] = DataObject(parent, tuple(children))
    return _with_crc(tuple(objects))


def test_both_kinds_read_back_untouched():
    """The payloads the insertions start from are accepted, so a refusal below is the
    insertion's doing."""
    assert verify_sale_qr(KINDS["sale"][0], _check, NOW) == SALE
    assert verify_stand_qr(KINDS["stand"][0], _check) == STAND


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(
    "parent, positions, sub_id",
    [
        ("80", range(5), "04"),
        ("80", range(5), "99"),
        ("81", range(3), "02"),
        ("81", range(3), "50"),
    ],
)
def test_an_object_inserted_into_80_or_81_is_refused(kind, parent, positions, sub_id):
    """An extra 80-04 or 81-02 sits outside what is signed: before the shared reader, the stand
    accepted one with its signature still valid."""
    payload, refused = KINDS[kind]
    for position in positions:
        refused(_inserted(payload, parent, position, DataObject(sub_id, "X")))


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("position", [-1, -2])  # after 81 (before the CRC), between 80 and 81
def test_an_object_beside_the_signature_is_refused(kind, position):
    payload, refused = KINDS[kind]
    at = len(emv.parse(payload)) + 1 + position
    refused(_inserted(payload, None, at, DataObject("99", (DataObject("00", "x"),))))


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda t, r: (t, DataObject("81", (*r.value, DataObject("02", "Y")))), "unsigned"),
        (lambda t, r: (DataObject("80", (*t.value, DataObject("04", "X"))), r), "unsigned"),
        (lambda t, r: (t, DataObject("81", (DataObject("00", "x.y"), r.value[1]))), "malformed"),
        (lambda t, r: (r, t), "altered"),
    ],
)  # fmt: skip
def test_read_signature_names_the_reason(change, reason):
    objects = emv.parse(KINDS["stand"][0], strict=True)
    template, tail = change(objects[-2], objects[-1])
    with pytest.raises(SignatureLayoutError) as refused:
        read_signature((*objects[:-2], template, tail))
    assert refused.value.reason == reason


def _insertion(payload: str):
    """Where to insert (top level or inside any template) and a data object with an id not yet
    used there; values short enough that 80 (86 characters in a sale QR) stays under 99."""
    objects = emv.parse(payload, strict=True)
    parents = [None, *(o.id for o in objects if isinstance(o.value, tuple))]

    @st.composite
    def build(draw):
        parent = draw(st.sampled_from(parents))
        if parent is None:
            siblings = [*(o.id for o in objects), "63"]
        else:
            siblings = [c.id for c in emv.find(objects, parent).value]
        sub_id = draw(st.integers(0, 99).map("{:02d}".format).filter(lambda i: i not in siblings))
        text = draw(st.text(alphabet="0123456789AZaz-_ .가", min_size=1, max_size=9))
        if parent is None and emv.is_template(sub_id):
            value: str | tuple[DataObject, ...] = (DataObject("00", text),)
        else:
            value = text
        position = draw(st.integers(0, len(siblings) - (parent is None)))
        return parent, position, DataObject(sub_id, value)

    return build()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_any_inserted_data_object_is_refused(kind):
    payload, refused = KINDS[kind]

    @settings(max_examples=150, deadline=None)
    @given(_insertion(payload))
    def check(insertion):
        parent, position, new = insertion
        refused(_inserted(payload, parent, position, new))

    check()
