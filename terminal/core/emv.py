"""EMVCo merchant-presented QR codec: TLV data objects, nested templates and the CRC (tag 63).

A payload is a string of data objects: a two-digit id, a two-digit length and the value.
Lengths count characters, not bytes (a Hangul syllable in the language template counts one);
the CRC is computed over the UTF-8 bytes of everything before it, including "6304".

Strict mode is for our own payloads: every rule of the specification. Payloads that others made
are read leniently about the specification's per-field maximum lengths, which deployed schemes
break (a published Cambodian merchant QR has a 16-character city): `parse_report` returns them
with a warning for each such field. Every pattern is matched against the whole value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from terminal.core.crc import crc16_ccitt_false

MAX_PAYLOAD_CHARS = 512
KRW = "410"

PAYLOAD_FORMAT = "00"
POINT_OF_INITIATION = "01"
MCC = "52"
CURRENCY = "53"
AMOUNT = "54"
COUNTRY = "58"
MERCHANT_NAME = "59"
MERCHANT_CITY = "60"
ADDITIONAL_DATA = "62"
CRC = "63"
LANGUAGE_TEMPLATE = "64"

# Objects every payload must carry to be read at all. The published examples from several
# countries omit 52, 59 and 60, so those are required only in strict mode (our own payloads).
REQUIRED = (PAYLOAD_FORMAT, CURRENCY, COUNTRY, CRC)
REQUIRED_STRICT = (*REQUIRED, MCC, MERCHANT_NAME, MERCHANT_CITY)

# The EMV MPM specification's maximum lengths for primitive objects (others: 99).
MAX_LENGTHS = {AMOUNT: 13, MERCHANT_NAME: 25, MERCHANT_CITY: 15, "61": 10}

_TWO_DIGITS = re.compile(r"[0-9]{2}")
_MCC_FORMAT = re.compile(r"[0-9]{4}")
_CURRENCY_FORMAT = re.compile(r"[0-9]{3}")
_COUNTRY_FORMAT = re.compile(r"[A-Za-z]{2}")
_AMOUNT_FORMAT = re.compile(r"(?=.*[0-9])[0-9]*(\.[0-9]*)?")
_CRC_FORMAT = re.compile(r"[0-9A-F]{4}")


def is_template(object_id: str) -> bool:
    """Ids whose value is itself a list of data objects."""
    number = int(object_id)
    return 26 <= number <= 51 or number in (62, 64) or 80 <= number <= 99


def template_needs_guid(object_id: str) -> bool:
    """Merchant account (26–51) and unreserved (80–99) templates start with a GUID in sub-id 00."""
    number = int(object_id)
    return 26 <= number <= 51 or 80 <= number <= 99


@dataclass(frozen=True)
class DataObject:
    """One TLV data object; a template's value is a tuple of its own data objects."""

    id: str
    value: str | tuple[DataObject, ...]

    def text(self) -> str:
        if not isinstance(self.value, str):
            raise TypeError(f"data object {self.id} is a template, not text")
        return self.value

    def sub(self, sub_id: str) -> str | None:
        """The text of one sub-object of a template, or None when absent."""
        if isinstance(self.value, str):
            raise TypeError(f"data object {self.id} is text, not a template")
        for child in self.value:
            if child.id == sub_id:
                return child.text()
        return None


Objects = tuple[DataObject, ...]


class EmvError(ValueError):
    """A payload that is not valid EMV MPM: what is wrong, at which object id and offset.

    `reason` is one of: too_long, truncated, bad_id, non_numeric_length, bad_length, duplicate,
    order, missing, bad_value, bad_crc. Not retryable: the code itself is wrong.
    """

    def __init__(self, reason: str, message: str, object_id: str | None = None, offset: int = 0):
        self.reason = reason
        self.object_id = object_id
        self.offset = offset
        where = f"id {object_id} at offset {offset}" if object_id else f"offset {offset}"
        super().__init__(f"{reason}: {where}: {message}")


def _read_objects(text: str, base: int, parent: str | None) -> Objects:
    """Splits `text` (found at character offset `base`) into data objects."""
    objects: list[DataObject] = []
    seen: set[str] = set()
    position = 0
    while position < len(text):
        at = base + position
        if len(text) - position < 4:
            raise EmvError("truncated", "fewer than 4 characters left for id and length", None, at)
        object_id, length_text = text[position : position + 2], text[position + 2 : position + 4]
        label = f"{parent}.{object_id}" if parent else object_id
        if not _TWO_DIGITS.fullmatch(object_id):
            raise EmvError("bad_id", f"id {object_id!r} is not two digits", None, at)
        if not _TWO_DIGITS.fullmatch(length_text):
            raise EmvError(
                "non_numeric_length", f"length {length_text!r} is not two digits", label, at
            )
        length = int(length_text)
        if length == 0:
            raise EmvError("bad_length", "length 00: an object must have a value", label, at)
        value = text[position + 4 : position + 4 + length]
        if len(value) < length:
            raise EmvError(
                "truncated",
                f"length says {length} but only {len(value)} characters follow",
                label,
                at,
            )
        if object_id in seen:
            raise EmvError("duplicate", "the same id appears twice", label, at)
        seen.add(object_id)
        if parent is None and is_template(object_id):
            objects.append(DataObject(object_id, _read_objects(value, at + 4, object_id)))
        else:
            objects.append(DataObject(object_id, value))
        position += 4 + length
    return tuple(objects)


def _check_objects(
    objects: Objects, strict: bool, offsets: dict[str, int], warnings: list[str]
) -> None:
    ids = [o.id for o in objects]
    required = REQUIRED_STRICT if strict else REQUIRED
    for object_id in required:
        if object_id not in ids:
            raise EmvError("missing", "a mandatory object is missing", object_id, 0)
    if ids[0] != PAYLOAD_FORMAT:
        raise EmvError("order", "payload format indicator (00) must come first", ids[0], 0)
    if ids[-1] != CRC:
        raise EmvError("order", "the CRC (63) must come last", ids[-1], offsets[ids[-1]])
    if not any(2 <= int(i) <= 51 for i in ids):
        raise EmvError("missing", "no merchant account information (02–51)", None, 0)
    values = {o.id: o.value for o in objects}

    def bad(object_id: str, message: str) -> EmvError:
        return EmvError("bad_value", message, object_id, offsets[object_id])

    if values[PAYLOAD_FORMAT] != "01":
        raise bad(PAYLOAD_FORMAT, f"payload format indicator must be '01', got {values['00']!r}")
    if POINT_OF_INITIATION in values and values[POINT_OF_INITIATION] not in ("11", "12"):
        raise bad(
            POINT_OF_INITIATION, "point of initiation must be '11' (static) or '12' (dynamic)"
        )
    if MCC in values and not _MCC_FORMAT.fullmatch(values[MCC]):
        raise bad(MCC, f"merchant category code must be 4 digits, got {values[MCC]!r}")
    currency = values[CURRENCY]
    if not _CURRENCY_FORMAT.fullmatch(currency):
        raise bad(CURRENCY, f"currency must be 3 digits (ISO 4217), got {currency!r}")
    if not _COUNTRY_FORMAT.fullmatch(values[COUNTRY]):
        raise bad(COUNTRY, f"country must be 2 letters (ISO 3166), got {values[COUNTRY]!r}")
    for object_id, longest in MAX_LENGTHS.items():
        if object_id in values and len(values[object_id]) > longest:
            problem = f"at most {longest} characters, got {len(values[object_id])}"
            if strict:
                raise bad(object_id, problem)
            warnings.append(f"id {object_id}: {problem} (read anyway: not our payload)")
    if AMOUNT in values:
        amount = values[AMOUNT]
        if not _AMOUNT_FORMAT.fullmatch(amount):
            raise bad(AMOUNT, f"amount must be digits with at most one '.', got {amount!r}")
        if currency == KRW and "." in amount:
            raise bad(AMOUNT, f"a KRW amount is whole won without '.', got {amount!r}")
    for obj in objects:
        if isinstance(obj.value, tuple):
            sub_ids = [child.id for child in obj.value]
            if template_needs_guid(obj.id) and (not sub_ids or sub_ids[0] != "00"):
                raise bad(obj.id, "template must start with its globally unique id in sub-id 00")
            if obj.id == LANGUAGE_TEMPLATE:
                language, name = obj.sub("00"), obj.sub("01")
                if language is None or len(language) != 2:
                    raise bad(obj.id, "language template needs a 2-letter language in sub-id 00")
                if name is None:
                    raise bad(obj.id, "language template needs the alternate name in sub-id 01")


def crc_hex(text_before_crc_value: str) -> str:
    """The four uppercase hex digits of the CRC over everything up to and including '6304'."""
    return f"{crc16_ccitt_false(text_before_crc_value.encode('utf-8')):04X}"


def parse(payload: str, *, strict: bool = False) -> Objects:
    """Reads a payload into its data objects (without the CRC object), checking everything.

    Not strict: fields over the specification's maximum length are read (see `parse_report`).
    """
    return parse_report(payload, strict=strict)[0]


def parse_report(payload: str, *, strict: bool = False) -> tuple[Objects, tuple[str, ...]]:
    """Like `parse`, also returning a warning for each rule bent to read someone else's payload."""
    warnings: list[str] = []
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise EmvError("too_long", f"{len(payload)} characters, at most {MAX_PAYLOAD_CHARS}")
    objects = _read_objects(payload, 0, None)
    if not objects:
        raise EmvError("truncated", "empty payload")
    offsets, position = {}, 0
    for obj in objects:
        offsets[obj.id] = position
        position += 4 + len(_value_text(obj))
    _check_objects(objects, strict, offsets, warnings)
    crc_object = objects[-1]
    at = offsets[CRC]
    if not _CRC_FORMAT.fullmatch(crc_object.text()):
        raise EmvError("bad_crc", "CRC must be four uppercase hex digits", CRC, at)
    expected = crc_hex(payload[: at + 4])
    if crc_object.text() != expected:
        raise EmvError("bad_crc", f"CRC is {crc_object.text()}, computed {expected}", CRC, at)
    return objects[:-1], tuple(warnings)


def _value_text(obj: DataObject) -> str:
    if isinstance(obj.value, str):
        return obj.value
    return "".join(_tlv(child) for child in obj.value)


def _tlv(obj: DataObject) -> str:
    if not _TWO_DIGITS.fullmatch(obj.id):
        raise EmvError("bad_id", f"id {obj.id!r} is not two digits", obj.id)
    if isinstance(obj.value, tuple) and not is_template(obj.id):
        raise EmvError("bad_value", "only ids 26-51, 62, 64 and 80-99 hold templates", obj.id)
    value = _value_text(obj)
    if not 1 <= len(value) <= 99:
        raise EmvError("bad_length", f"value is {len(value)} characters, must be 1..99", obj.id)
    return f"{obj.id}{len(value):02d}{value}"


def encode_unchecked_prefix(objects: Objects) -> str:
    """The TLV text of `objects` in order, without CRC; used to compute signed prefixes."""
    return "".join(_tlv(obj) for obj in objects)


def encode(objects: Objects, *, strict: bool = False) -> str:
    """Writes objects (without CRC) as a payload with its CRC; refuses what parse would refuse."""
    if any(obj.id == CRC for obj in objects):
        raise EmvError("order", "give the objects without the CRC: encode appends it", CRC)
    body = encode_unchecked_prefix(objects) + "6304"
    payload = body + crc_hex(body)
    parse(payload, strict=strict)  # the same rules for what we write as for what we read
    return payload


def find(objects: Objects, object_id: str) -> DataObject | None:
    """The top-level data object with this id, or None."""
    for obj in objects:
        if obj.id == object_id:
            return obj
    return None


def to_tree(objects: Objects) -> dict[str, object]:
    """The objects as a JSON-ready tree: id → text, or id → {sub-id → text} for templates."""
    return {
        obj.id: obj.value if isinstance(obj.value, str) else to_tree(obj.value) for obj in objects
    }
