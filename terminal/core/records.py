"""Transaction records: their fields, canonical bytes, and the hash chain that links them.

A record is signed as a compact JWS (ES256) whose payload is the record's canonical JSON
(sorted keys, no spaces, UTF-8). Each record carries the SHA-256 of the previous record's JWS
text; the first record carries 64 zeros. Anyone holding the device certificate can check the
signatures, the chain and the gap-free counter of an exported journal.

A sale with a 선할인 (the merchant's up-front discount) carries three amounts: `list_won`,
`discount_won` and `amount_won`, what the customer was charged (list less discount); a refund
carries the same three for what it gives back. Without a discount the signed JSON leaves the two
extra fields out, so records without one keep the bytes they always had. Likewise
`config_version` (the platform-pushed configuration in force when the record was written) is
left out while it is 0 (local configuration only).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any

RECORD_VERSION = 1
GENESIS_HASH = "0" * 64
KINDS = ("sale", "refund", "void", "close")
METHODS = ("mpm", "cpm")


class RecordError(ValueError):
    """A record that is malformed: a programming error or a tampered export."""


@dataclass(frozen=True)
class Record:
    txn_id: str  # UUIDv7; also the idempotency key at the platform
    device_id: str
    seq: int  # gap-free from 1, never reset or reused
    prev_hash: str
    kind: str
    method: str | None  # None for a day close
    amount_won: int  # charged (after any 선할인); positive: a refund's direction is in its kind
    benefits: dict[str, int]
    refs: dict[str, str]  # charge_id, token_id, original_txn (refund/void)
    time_ms: int  # wall clock, Unix milliseconds
    clock_synced: bool  # was the wall clock trusted when this was written
    offline: bool  # accepted without the platform
    currency: str = "KRW"
    close: dict[str, Any] = field(default_factory=dict)  # totals, for kind "close"
    v: int = RECORD_VERSION
    list_won: int | None = None  # before 선할인; None: the same as amount_won
    discount_won: int = 0  # 선할인 given (a sale) or given back (a refund)
    config_version: int = 0  # the platform-pushed configuration in force; 0: local files only

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise RecordError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.method is not None and self.method not in METHODS:
            raise RecordError(f"method must be one of {METHODS}, got {self.method!r}")
        if (self.kind == "close") != (self.method is None):
            raise RecordError("a day close has no method; every other record has one")
        if not isinstance(self.seq, int) or self.seq < 1:
            raise RecordError(f"seq must be a positive integer, got {self.seq!r}")
        if not isinstance(self.amount_won, int) or isinstance(self.amount_won, bool):
            raise RecordError(f"amount must be whole won, got {self.amount_won!r}")
        if self.amount_won < 0 or (self.kind != "close" and self.amount_won == 0):
            raise RecordError(f"amount must be positive, got {self.amount_won}")
        if len(self.prev_hash) != 64:
            raise RecordError("prev_hash must be 64 hex digits")
        self._check_discount()
        version = self.config_version
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise RecordError(f"config_version must be a whole number, 0 or more, got {version!r}")

    def _check_discount(self) -> None:
        discount = self.discount_won
        if isinstance(discount, bool) or not isinstance(discount, int) or discount < 0:
            raise RecordError(f"discount must be whole won, 0 or more, got {discount!r}")
        if self.list_won is None:
            object.__setattr__(self, "list_won", self.amount_won + discount)
        if self.list_won != self.amount_won + discount:
            raise RecordError(
                f"list amount {self.list_won!r} must be the charged {self.amount_won} "
                f"plus the discount {discount}"
            )
        if discount and self.kind not in ("sale", "refund", "void"):
            raise RecordError(f"a {self.kind} record carries no discount")

    def canonical(self) -> bytes:
        # Fields are flat or plain dicts: a shallow dict is enough, and 10× faster than asdict.
        # Optional fields at their defaults stay out, so older records keep their exact bytes.
        names = _FIELD_NAMES[(bool(self.discount_won), bool(self.config_version))]
        return canonical_json({name: getattr(self, name) for name in names})


# One encoder for every call: json.dumps with options builds a new encoder each time.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_ALL_FIELDS = tuple(f.name for f in fields(Record))
_DISCOUNT_FIELDS = ("list_won", "discount_won")
# The fields a record's canonical JSON holds, by (has a discount, has a config version).
_FIELD_NAMES = {
    (discount, version): tuple(
        name
        for name in _ALL_FIELDS
        if (discount or name not in _DISCOUNT_FIELDS) and (version or name != "config_version")
    )
    for discount in (False, True)
    for version in (False, True)
}


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same bytes for the same value, everywhere."""
    return _CANONICAL.encode(value).encode()


def record_from_json(payload: bytes) -> Record:
    """Reads a record back from its canonical bytes; refuses unknown or missing fields."""
    try:
        data = json.loads(payload)
        record = Record(**data)
    except (ValueError, TypeError) as error:
        raise RecordError(f"not a record: {error}") from None
    if record.canonical() != payload:
        raise RecordError("payload is not in canonical form")
    return record


def chain_hash(jws: str) -> str:
    """The link the next record carries: SHA-256 of this record's JWS text."""
    return hashlib.sha256(jws.encode("ascii")).hexdigest()
