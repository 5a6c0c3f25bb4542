"""The platform's answers as typed values, read strictly: a field missing or of the wrong type
makes the whole answer malformed (MalformedResponse), so nothing is believed from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from terminal.sync.errors import MalformedResponse

UPLOAD_STATUSES = ("accepted", "duplicate", "conflict", "rejected")
CHARGE_STATUSES = ("pending", "paid", "expired", "cancelled")
DECISIONS = ("approved", "declined")


def need(body: Any, name: str, kind: type | tuple[type, ...], where: str) -> Any:
    """body[name], which must exist and be of `kind` (bool is never taken for an int)."""
    if not isinstance(body, Mapping):
        raise MalformedResponse(f"{where}: expected a JSON object, got {type(body).__name__}")
    value = body.get(name)
    wrong_int = kind is int and isinstance(value, bool)
    if value is None or wrong_int or not isinstance(value, kind):
        raise MalformedResponse(f"{where}: field {name!r} missing or not {_kind_name(kind)}")
    return value


def optional(body: Mapping, name: str, kind: type, where: str) -> Any:
    return None if body.get(name) is None else need(body, name, kind, where)


def one_of(value: str, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise MalformedResponse(f"{where}: {value!r} is not one of {', '.join(allowed)}")
    return value


def _kind_name(kind) -> str:
    names = kind if isinstance(kind, tuple) else (kind,)
    return "/".join(k.__name__ for k in names)


@dataclass(frozen=True)
class UploadResult:
    id: str
    status: str  # accepted | duplicate | conflict | rejected
    reason: str | None = None
    detail: str | None = None
    chain: str | None = None  # linked | held (held still counts as accepted)

    @property
    def accepted(self) -> bool:
        return self.status in ("accepted", "duplicate")

    def why(self) -> str:
        """The platform's reason, as kept with a parked record for the operator."""
        text = f"{self.status}: {self.reason or 'no reason given'}"
        return f"{text} ({self.detail})" if self.detail else text


def upload_results(body: Any) -> list[UploadResult]:
    results = need(body, "results", list, "upload answer")
    parsed = []
    for index, item in enumerate(results):
        where = f"upload answer result {index}"
        parsed.append(
            UploadResult(
                id=need(item, "id", str, where),
                status=one_of(need(item, "status", str, where), UPLOAD_STATUSES, where),
                reason=optional(item, "reason", str, where),
                detail=optional(item, "detail", str, where),
                chain=optional(item, "chain", str, where),
            )
        )
    return parsed


@dataclass(frozen=True)
class Charge:
    charge_id: str
    status: str  # pending | paid | expired | cancelled
    amount: int
    expires_at_ms: int
    receipt: str | None = None
    paid_at_ms: int | None = None
    benefits: Mapping[str, int] | None = None


def charge(body: Any, expected_id: str) -> Charge:
    where = "charge answer"
    found = need(body, "charge_id", str, where)
    if found != expected_id:
        raise MalformedResponse(f"{where}: about charge {found!r}, asked about {expected_id!r}")
    result = Charge(
        charge_id=found,
        status=one_of(need(body, "status", str, where), CHARGE_STATUSES, where),
        amount=need(body, "amount", int, where),
        expires_at_ms=need(body, "expires_at_ms", int, where),
        receipt=optional(body, "receipt", str, where),
        paid_at_ms=optional(body, "paid_at_ms", int, where),
        benefits=optional(body, "benefits", dict, where),
    )
    if result.status == "paid" and result.receipt is None:
        raise MalformedResponse(f"{where}: paid without a receipt")
    return result


@dataclass(frozen=True)
class Decision:
    """An authorization or refund answer: approved, or declined with the platform's reason."""

    id: str
    status: str  # approved | declined
    amount: int
    reason: str | None = None
    approval_number: str | None = None
    benefits: Mapping[str, int] | None = None
    token_id: str | None = None
    remaining: int | None = None  # refunds: what stays refundable of the original

    @property
    def approved(self) -> bool:
        return self.status == "approved"


def authorization(body: Any, transaction_id: str, amount: int) -> Decision:
    return _decision(
        body, "transaction_id", transaction_id, amount, "authorization answer",
        benefits=(dict, False), token_id=(str, False),
    )  # fmt: skip


def refund(body: Any, refund_id: str, amount: int) -> Decision:
    return _decision(body, "refund_id", refund_id, amount, "refund answer", remaining=(int, True))


def _decision(body: Any, id_field: str, asked_id: str, amount: int, where: str, **extra):
    """A platform decision (authorization or refund) for exactly what was asked: the same id,
    and, when approved, the same amount. `extra`: more fields, name → (type, required)."""
    found = need(body, id_field, str, where)
    _same(found, asked_id, id_field.removesuffix("_id"), where)
    fields = {
        name: (need if required else optional)(body, name, kind, where)
        for name, (kind, required) in extra.items()
    }
    decision = Decision(
        id=found,
        status=one_of(need(body, "status", str, where), DECISIONS, where),
        amount=need(body, "amount", int, where),
        reason=optional(body, "reason", str, where),
        approval_number=optional(body, "approval_number", str, where),
        **fields,
    )
    if decision.approved and decision.amount != amount:
        raise MalformedResponse(f"{where}: approved {decision.amount}, asked for {amount}")
    return decision


def _same(found: str, expected: str, what: str, where: str) -> None:
    if found != expected:
        raise MalformedResponse(f"{where}: about {what} {found!r}, asked about {expected!r}")


@dataclass(frozen=True)
class Enrollment:
    device_id: str
    certificate: str
    ca_chain: tuple[str, ...]
    merchant: Mapping[str, Any]
    jwks: Mapping[str, Any]
    config: Mapping[str, Any]


def enrollment(body: Any) -> Enrollment:
    where = "enrollment answer"
    chain = need(body, "ca_chain", list, where)
    if not chain or not all(isinstance(pem, str) for pem in chain):
        raise MalformedResponse(f"{where}: ca_chain must be a non-empty list of PEM texts")
    return Enrollment(
        device_id=need(body, "device_id", str, where),
        certificate=need(body, "certificate", str, where),
        ca_chain=tuple(chain),
        merchant=need(body, "merchant", dict, where),
        jwks=need(body, "jwks", dict, where),
        config=need(body, "config", dict, where),
    )


@dataclass(frozen=True)
class StandPayment:
    """A payment a customer made to this terminal's printed QR stand (고정형)."""

    cursor: int
    payment_id: str  # a UUID: the terminal records the sale under this transaction id
    stand: str  # "STAND-nnnnnn"
    amount: int
    paid_at_ms: int
    benefits: dict[str, int]


def stand_payments(body: Any, after: int) -> tuple[tuple[StandPayment, ...], int]:
    """(payments, next cursor). Every cursor must lie above `after` and rise, or nothing is
    believed: a payment recorded twice or skipped would misstate the shop's takings."""
    items = need(body, "payments", list, "stand payments answer")
    next_cursor = need(body, "next_cursor", int, "stand payments answer")
    payments, last = [], after
    for index, item in enumerate(items):
        where = f"stand payment {index}"
        cursor = need(item, "cursor", int, where)
        if cursor <= last:
            raise MalformedResponse(f"{where}: cursor {cursor} does not rise above {last}")
        stand = need(item, "stand", str, where)
        digits = stand.removeprefix("STAND-")
        if len(stand) != 12 or not digits.isascii() or not digits.isdigit():
            raise MalformedResponse(f"{where}: stand {stand!r} is not STAND-nnnnnn")
        amount = need(item, "amount", int, where)
        if amount <= 0:
            raise MalformedResponse(f"{where}: amount {amount} is not positive")
        benefits = need(item, "benefits", dict, where)
        figures = {k: need(benefits, k, int, where) for k in ("city_won", "district_won")}
        figures["merchant_won"] = need(benefits, "merchant_won", int, where)
        payments.append(
            StandPayment(
                cursor,
                _uuid(need(item, "payment_id", str, where), where),
                stand,
                amount,
                need(item, "paid_at_ms", int, where),
                figures,
            )
        )
        last = cursor
    if next_cursor != last:
        raise MalformedResponse(
            f"stand payments answer: next_cursor {next_cursor}, expected {last}"
        )
    return tuple(payments), next_cursor


def _uuid(text: str, where: str) -> str:
    import uuid

    try:
        if str(uuid.UUID(text)) == text:
            return text
    except ValueError:
        pass
    raise MalformedResponse(f"{where}: payment_id {text!r} is not a UUID")
