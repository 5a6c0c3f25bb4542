"""Cashback layers: floor to the won, monthly caps, and refunds that reverse exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.benefits import (
    BenefitRates,
    Benefits,
    MonthToDate,
    refund_benefits,
    sale_benefits,
)
from terminal.core.money import MAX_AMOUNT_WON, AmountError

BUPYEONG = BenefitRates(
    city_rate_bp=1000,
    city_monthly_cap_won=30000,
    district_topup_bp=200,
    district_monthly_cap_won=10000,
    merchant_rate_bp=300,
)


@pytest.mark.parametrize(
    ("amount", "earned", "expected"),
    [
        (12000, MonthToDate(), Benefits(1200, 240, 360)),
        (1, MonthToDate(), Benefits(0, 0, 0)),  # floors to zero, never rounds up
        (9, MonthToDate(), Benefits(0, 0, 0)),
        (10, MonthToDate(), Benefits(1, 0, 0)),
        (12345, MonthToDate(), Benefits(1234, 246, 370)),
        (12000, MonthToDate(city_won=29500), Benefits(500, 240, 360)),  # cap reached mid-sale
        (12000, MonthToDate(city_won=30000), Benefits(0, 240, 360)),  # cap already used up
        (12000, MonthToDate(city_won=31000), Benefits(0, 240, 360)),  # over cap stays at zero
        (12000, MonthToDate(district_won=9900), Benefits(1200, 100, 360)),
        (MAX_AMOUNT_WON, MonthToDate(), Benefits(30000, 10000, 299_999_999)),
    ],
)
def test_sale_benefits_table(amount, earned, expected):
    assert sale_benefits(amount, BUPYEONG, earned) == expected


def test_city_wide_brand_has_no_district_layer():
    rates = BenefitRates(1000, 30000, 0, 0, 100)
    assert sale_benefits(50000, rates) == Benefits(5000, 0, 500)


@pytest.mark.parametrize("amount", [0, -100, 1.5, MAX_AMOUNT_WON + 1])
def test_sale_benefits_refuses_bad_amounts(amount):
    with pytest.raises(AmountError):
        sale_benefits(amount, BUPYEONG)


def test_rates_out_of_range_are_refused():
    with pytest.raises(AmountError, match="merchant_rate_bp"):
        BenefitRates(1000, 30000, 200, 10000, 10001)


def test_full_refund_reverses_the_sale_exactly():
    sale = sale_benefits(12345, BUPYEONG)
    refund = refund_benefits(12345, sale, 0, 12345)
    assert refund == Benefits(-1234, -246, -370)


def test_partial_refunds_add_up_to_the_sale():
    sale = sale_benefits(10001, BUPYEONG)
    first = refund_benefits(10001, sale, 0, 3333)
    second = refund_benefits(10001, sale, 3333, 3333)
    third = refund_benefits(10001, sale, 6666, 3335)
    assert first.total_won + second.total_won + third.total_won == -sale.total_won


def test_refund_beyond_the_sale_is_refused():
    sale = sale_benefits(10000, BUPYEONG)
    with pytest.raises(AmountError, match="exceeds what is left"):
        refund_benefits(10000, sale, 6000, 4001)


amounts = st.integers(min_value=1, max_value=MAX_AMOUNT_WON)
rates = st.builds(
    BenefitRates,
    st.integers(0, 10000),
    st.integers(0, 10_000_000),
    st.integers(0, 10000),
    st.integers(0, 10_000_000),
    st.integers(0, 10000),
)
earned = st.builds(MonthToDate, st.integers(0, 20_000_000), st.integers(0, 20_000_000))


@given(amounts, rates, earned)
def test_no_layer_is_ever_negative_or_above_its_cap(amount, rates, earned):
    got = sale_benefits(amount, rates, earned)
    assert min(got.city_won, got.district_won, got.merchant_won) >= 0
    assert got.city_won + earned.city_won <= max(rates.city_monthly_cap_won, earned.city_won)
    assert got.district_won <= max(0, rates.district_monthly_cap_won - earned.district_won)
    assert got.total_won <= amount * 3


@given(amounts, rates, st.lists(st.integers(1, 100), min_size=1, max_size=6))
def test_any_split_of_refunds_plus_sale_is_zero(amount, rates, weights):
    sale = sale_benefits(amount, rates)
    # Split the amount into refund parts proportional to the weights; the last takes the rest.
    parts, left = [], amount
    for weight in weights[:-1]:
        part = amount * weight // (sum(weights) * 2)
        if 0 < part < left:
            parts.append(part)
            left -= part
    parts.append(left)
    refunded, total = 0, Benefits(0, 0, 0)
    for part in parts:
        got = refund_benefits(amount, sale, refunded, part)
        assert max(got.city_won, got.district_won, got.merchant_won) <= 0
        total = Benefits(
            *(
                a + b
                for a, b in zip(
                    (total.city_won, total.district_won, total.merchant_won),
                    (got.city_won, got.district_won, got.merchant_won),
                    strict=True,
                )
            )
        )
        refunded += part
    assert total.city_won == -sale.city_won
    assert total.district_won == -sale.district_won
    assert total.merchant_won == -sale.merchant_won
