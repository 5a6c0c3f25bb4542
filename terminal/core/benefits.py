"""Cashback arithmetic: the city, district and merchant (상생) layers of a sale and their refunds.

Rounding rule, the only one: each layer is floor(amount × rate_bp / 10000) won, then clipped to
what is left of that layer's monthly cap for this customer. A refund of part of a sale reverses
floor(layer × refunded_so_far / sale_amount) cumulatively, so the refunds of a whole sale add
up to exactly what the sale gave, whatever the split.
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.money import AmountError, require_won

BP_PER_WHOLE = 10_000  # basis points in 100%


@dataclass(frozen=True)
class BenefitRates:
    """Rates and caps in force for one merchant: issuer profile plus the merchant's 상생 rate."""

    city_rate_bp: int
    city_monthly_cap_won: int
    district_topup_bp: int
    district_monthly_cap_won: int
    merchant_rate_bp: int

    def __post_init__(self) -> None:
        for name in ("city_rate_bp", "district_topup_bp", "merchant_rate_bp"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise AmountError(f"{name} must be whole basis points, got {value!r}")
            if not 0 <= value <= BP_PER_WHOLE:
                raise AmountError(f"{name} must be 0..{BP_PER_WHOLE} bp, got {value}")
        require_won(self.city_monthly_cap_won, allow_zero=True, name="city_monthly_cap_won")
        require_won(self.district_monthly_cap_won, allow_zero=True, name="district_monthly_cap_won")


@dataclass(frozen=True)
class MonthToDate:
    """Capped cashback a customer has already earned this calendar month, per layer."""

    city_won: int = 0
    district_won: int = 0

    def __post_init__(self) -> None:
        require_won(self.city_won, allow_zero=True, name="city_won")
        require_won(self.district_won, allow_zero=True, name="district_won")


@dataclass(frozen=True)
class Benefits:
    """Cashback per layer in won; negative in a refund, which gives cashback back."""

    city_won: int
    district_won: int
    merchant_won: int

    @property
    def total_won(self) -> int:
        return self.city_won + self.district_won + self.merchant_won

    def as_dict(self) -> dict[str, int]:
        return {
            "city_won": self.city_won,
            "district_won": self.district_won,
            "merchant_won": self.merchant_won,
            "total_won": self.total_won,
        }


NO_BENEFITS = Benefits(0, 0, 0)


def _layer(amount: int, rate_bp: int) -> int:
    return amount * rate_bp // BP_PER_WHOLE


def sale_benefits(
    amount: int, rates: BenefitRates, earned: MonthToDate = MonthToDate()
) -> Benefits:
    """The cashback a sale of `amount` won gives, each capped layer clipped to what is left."""
    require_won(amount)
    city_left = max(0, rates.city_monthly_cap_won - earned.city_won)
    district_left = max(0, rates.district_monthly_cap_won - earned.district_won)
    return Benefits(
        city_won=min(_layer(amount, rates.city_rate_bp), city_left),
        district_won=min(_layer(amount, rates.district_topup_bp), district_left),
        merchant_won=_layer(amount, rates.merchant_rate_bp),
    )


def refund_benefits(
    sale_amount: int, sale: Benefits, refunded_before: int, refund_amount: int
) -> Benefits:
    """The (negative) cashback a refund of `refund_amount` reverses, given earlier refunds."""
    require_won(sale_amount)
    require_won(refunded_before, allow_zero=True, name="refunded_before")
    require_won(refund_amount, name="refund amount")
    if refunded_before + refund_amount > sale_amount:
        raise AmountError(
            f"refund of {refund_amount:,}원 exceeds what is left of the sale "
            f"({sale_amount - refunded_before:,}원 of {sale_amount:,}원)"
        )
    after = refunded_before + refund_amount

    def reversed_part(layer: int) -> int:
        return -(layer * after // sale_amount - layer * refunded_before // sale_amount)

    return Benefits(
        city_won=reversed_part(sale.city_won),
        district_won=reversed_part(sale.district_won),
        merchant_won=reversed_part(sale.merchant_won),
    )
