"""Benefit arithmetic: the merchant's 선할인 (up-front discount), and the city, district and
merchant (상생) cashback layers of a sale and their refunds.

The merchant's share is given one of two ways, chosen per issuer profile and merchant:
cashback paid later (a cashback layer), or 선할인, a discount at payment. With 선할인 the
customer is charged the list amount less floor(list × rate_bp / 10000) won, and the city and
district cashback are computed on what the customer actually paid.

Rounding rule, the only one: each layer is floor(amount × rate_bp / 10000) won, then clipped to
what is left of that layer's monthly cap for this customer. A refund of part of a sale reverses
floor(part × refunded_so_far / sale_charged) cumulatively for each layer and for the discount,
so the refunds of a whole sale add up to exactly what the sale gave, whatever the split.
Refunds are in charged won: what goes back to the customer.
"""

from __future__ import annotations

from dataclasses import dataclass

from terminal.core.money import AmountError, require_won

BP_PER_WHOLE = 10_000  # basis points in 100%
CASHBACK, DISCOUNT = "cashback", "discount"
SANGSAENG_MODES = (CASHBACK, DISCOUNT)


@dataclass(frozen=True)
class BenefitRates:
    """Rates and caps in force for one merchant: issuer profile plus the merchant's 상생 rate."""

    city_rate_bp: int
    city_monthly_cap_won: int
    district_topup_bp: int
    district_monthly_cap_won: int
    merchant_rate_bp: int  # 상생 cashback paid later (0 when the merchant gives 선할인)
    merchant_discount_bp: int = 0  # 선할인 at payment (0 when the merchant gives cashback)

    def __post_init__(self) -> None:
        for name in ("city_rate_bp", "district_topup_bp", "merchant_rate_bp"):
            _require_bp(name, getattr(self, name), BP_PER_WHOLE)
        # A discount of 100% would charge nothing: there would be no payment to make.
        _require_bp("merchant_discount_bp", self.merchant_discount_bp, BP_PER_WHOLE - 1)
        if self.merchant_rate_bp and self.merchant_discount_bp:
            raise AmountError(
                "a merchant gives 상생 as cashback later or as 선할인 at payment, not both"
            )
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


@dataclass(frozen=True)
class Price:
    """What a sale (or a refund) is worth: list amount, 선할인, and what the customer pays."""

    list_won: int
    discount_won: int

    @property
    def charged_won(self) -> int:
        return self.list_won - self.discount_won


def _require_bp(name: str, value: object, highest: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise AmountError(f"{name} must be whole basis points, got {value!r}")
    if not 0 <= value <= highest:
        raise AmountError(f"{name} must be 0..{highest} bp, got {value}")


def _layer(amount: int, rate_bp: int) -> int:
    return amount * rate_bp // BP_PER_WHOLE


def price_sale(list_won: int, rates: BenefitRates) -> Price:
    """The price of a sale of `list_won`: the 선할인 is floored, so the customer never pays a
    fraction of a won and always pays at least 1 won."""
    require_won(list_won, name="list amount")
    return Price(list_won, _layer(list_won, rates.merchant_discount_bp))


def refund_price(sale: Price, refunded_before: int, refund_won: int) -> Price:
    """The list amount and 선할인 a refund of `refund_won` charged won gives back, given the
    charged won refunded before; refunds of a whole sale add up to the sale's price exactly."""
    charged = sale.charged_won
    _require_refund(charged, refunded_before, refund_won)
    after = refunded_before + refund_won
    discount = sale.discount_won * after // charged - sale.discount_won * refunded_before // charged
    return Price(refund_won + discount, discount)


def _require_refund(sale_amount: int, refunded_before: int, refund_amount: int) -> None:
    require_won(sale_amount)
    require_won(refunded_before, allow_zero=True, name="refunded_before")
    require_won(refund_amount, name="refund amount")
    if refunded_before + refund_amount > sale_amount:
        raise AmountError(
            f"refund of {refund_amount:,}원 exceeds what is left of the sale "
            f"({sale_amount - refunded_before:,}원 of {sale_amount:,}원)"
        )


def sale_benefits(
    amount: int, rates: BenefitRates, earned: MonthToDate = MonthToDate()
) -> Benefits:
    """The cashback a sale gives on `amount`, the won the customer actually paid (after any
    선할인: price_sale(...).charged_won), each capped layer clipped to what is left."""
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
    """The (negative) cashback a refund of `refund_amount` reverses, given earlier refunds.

    `sale_amount` and the refunds are in charged won (after 선할인)."""
    _require_refund(sale_amount, refunded_before, refund_amount)
    after = refunded_before + refund_amount

    def reversed_part(layer: int) -> int:
        return -(layer * after // sale_amount - layer * refunded_before // sale_amount)

    return Benefits(
        city_won=reversed_part(sale.city_won),
        district_won=reversed_part(sale.district_won),
        merchant_won=reversed_part(sale.merchant_won),
    )
