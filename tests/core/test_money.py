"""Won amounts are whole numbers, formatted and parsed the way Korean shops write them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.money import MAX_AMOUNT_WON, AmountError, format_won, parse_won, require_won


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (0, "0원"),
        (500, "500원"),
        (12000, "12,000원"),
        (1234567, "1,234,567원"),
        (-3000, "-3,000원"),
    ],
)
def test_format_won(amount, shown):
    assert format_won(amount) == shown


@pytest.mark.parametrize("text", ["12000", "12,000", "12,000원", " 12000원 "])
def test_parse_won_accepts_what_people_type(text):
    assert parse_won(text) == 12000


@pytest.mark.parametrize("text", ["", "원", "12.5", "-100", "1,2000", "12,00", "0", "１２", "1e3"])
def test_parse_won_refuses_non_amounts(text):
    with pytest.raises(AmountError):
        parse_won(text)


@pytest.mark.parametrize("bad", [1.0, "100", True, None, 0, -1, MAX_AMOUNT_WON + 1])
def test_require_won_refuses_non_integer_and_out_of_range(bad):
    with pytest.raises(AmountError):
        require_won(bad)


def test_zero_allowed_only_when_asked():
    assert require_won(0, allow_zero=True) == 0


@given(st.integers(min_value=1, max_value=MAX_AMOUNT_WON))
def test_parse_reads_back_what_format_writes(amount):
    assert parse_won(format_won(amount)) == amount
