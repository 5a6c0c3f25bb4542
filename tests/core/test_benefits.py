"""Cashback layers: floor to the won, monthly caps, and refunds that reverse exactly."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.benefits import (
    BenefitRates,
    Benefits,
    MonthToDate,
    Price,
    price_sale,
    refund_benefits,
    refund_price,
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


@st.composite
def splits(draw, total: int | None = None):
    """A total and a split of it into 1..6 positive refunds, every split reachable: distinct
    cut points drawn inside the total (the old version skipped parts behind an `if` and so
    mostly tested a single full refund)."""
    total = total or draw(amounts)
    cuts = draw(st.sets(st.integers(1, max(1, total - 1)), max_size=min(5, total - 1)))
    points = [0, *sorted(cuts), total]
    return total, [b - a for a, b in itertools.pairwise(points)]


def add(a: Benefits, b: Benefits) -> Benefits:
    return Benefits(
        a.city_won + b.city_won, a.district_won + b.district_won, a.merchant_won + b.merchant_won
    )


@given(splits(), rates)
def test_any_split_of_refunds_plus_sale_is_zero(split, rates):
    amount, parts = split
    assert sum(parts) == amount and all(p > 0 for p in parts)
    sale = sale_benefits(amount, rates)
    refunded, total = 0, Benefits(0, 0, 0)
    for part in parts:
        got = refund_benefits(amount, sale, refunded, part)
        assert max(got.city_won, got.district_won, got.merchant_won) <= 0
        total = add(total, got)
        refunded += part
    assert total == Benefits(-sale.city_won, -sale.district_won, -sale.merchant_won)


def test_the_split_strategy_reaches_many_parts():
    seen = set()

    @given(splits())
    def collect(split):
        seen.add(len(split[1]))

    collect()
    assert {1, 2, 3, 4, 5, 6} <= seen


# --- 선할인: the merchant's up-front discount ------------------------------------------------

DISCOUNTING = BenefitRates(1000, 30000, 200, 10000, 0, merchant_discount_bp=500)


def test_up_front_discount_charges_list_less_discount_and_cashback_on_what_was_paid():
    price = price_sale(12_000, DISCOUNTING)
    assert price == Price(12_000, 600) and price.charged_won == 11_400
    # City 10% and district 2% of the 11,400원 paid; no merchant cashback on top of 선할인.
    assert sale_benefits(price.charged_won, DISCOUNTING) == Benefits(1140, 228, 0)


@pytest.mark.parametrize(
    ("list_won", "bp", "discount"),
    [(1, 700, 0), (14, 700, 0), (15, 700, 1), (9_999, 100, 99), (10_000, 9_999, 9_999)],
)
def test_discount_floors_and_the_customer_always_pays_something(list_won, bp, discount):
    price = price_sale(list_won, BenefitRates(0, 0, 0, 0, 0, merchant_discount_bp=bp))
    assert price.discount_won == discount and price.charged_won >= 1


def test_a_merchant_gives_cashback_or_discount_not_both():
    with pytest.raises(AmountError, match="not both"):
        BenefitRates(1000, 30000, 0, 0, 100, merchant_discount_bp=100)
    with pytest.raises(AmountError, match="merchant_discount_bp"):
        BenefitRates(1000, 30000, 0, 0, 0, merchant_discount_bp=10_000)


discount_rates = st.builds(
    lambda bp: BenefitRates(1000, 30000, 200, 10000, 0, merchant_discount_bp=bp),
    st.integers(0, 9_999),
)


@given(discount_rates, st.data())
def test_refunds_of_a_whole_discounted_sale_add_up_exactly(rates, data):
    list_won = data.draw(amounts)
    price = price_sale(list_won, rates)
    charged, parts = data.draw(splits(price.charged_won))
    assert charged == price.charged_won
    sale = sale_benefits(charged, rates)
    refunded, given_back, cashback = 0, Price(0, 0), Benefits(0, 0, 0)
    for part in parts:
        back = refund_price(price, refunded, part)
        assert back.charged_won == part and 0 <= back.discount_won <= price.discount_won
        given_back = Price(
            given_back.list_won + back.list_won, given_back.discount_won + back.discount_won
        )
        cashback = add(cashback, refund_benefits(charged, sale, refunded, part))
        refunded += part
    assert given_back == price  # list, discount and charged all come back exactly
    assert cashback == Benefits(-sale.city_won, -sale.district_won, -sale.merchant_won)


@given(discount_rates, st.data())
def test_each_refund_gives_back_a_proportional_discount(rates, data):
    price = price_sale(data.draw(amounts), rates)
    refund = data.draw(st.integers(1, price.charged_won))
    back = refund_price(price, 0, refund)
    # Floor of the exact share: never more, and less by under one won.
    exact = price.discount_won * refund / price.charged_won
    assert back.discount_won <= exact < back.discount_won + 1


def test_refund_of_a_discounted_sale_beyond_what_was_paid_is_refused():
    price = price_sale(10_000, DISCOUNTING)
    with pytest.raises(AmountError, match="exceeds what is left"):
        refund_price(price, 5_000, 4_501)
