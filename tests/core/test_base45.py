"""Base45 against RFC 9285's own examples, and as a round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.base45 import Base45Error, b45decode, b45encode


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        (b"AB", "BB8"),
        (b"Hello!!", "%69 VD92EX0"),
        (b"base-45", "UJCLQE7W581"),
        (b"ietf!", "QED8WEX0"),
    ],
)
def test_rfc_9285_examples(raw, encoded):
    assert b45encode(raw) == encoded
    assert b45decode(encoded) == raw


@pytest.mark.parametrize("bad", ["GGW", "A", "abc", "ZZZ", "::"])
def test_invalid_base45_is_refused(bad):
    with pytest.raises(Base45Error):
        b45decode(bad)


@given(st.binary(max_size=200))
def test_round_trip(data):
    assert b45decode(b45encode(data)) == data
