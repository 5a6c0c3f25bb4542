"""Stored PIN hashes: the scrypt text round-trips exactly, anything else is refused with
PinHashError (never another exception), and a typed PIN matches only the PIN it was made from."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.core.base64url import b64url
from terminal.core.pin import (
    DEFAULT_LN,
    HASH_BYTES,
    MAX_LN,
    MAX_MEMORY_WORK,
    MAX_P,
    MAX_WORK,
    BadPin,
    PinHash,
    PinHashError,
    check_pin,
    hash_pin,
    parse_pin_hash,
    pin_matches,
    strength_problem,
)

SALT = b"0123456789abcdef"
CHEAP = {"ln": 4, "r": 1, "p": 1}  # scrypt is a pure function: cheap parameters test the same code


def cheap_hash(pin: str, salt: bytes = SALT) -> str:
    return hash_pin(pin, salt, **CHEAP).text()


@st.composite
def pin_hashes(draw) -> PinHash:
    """Every hash the parser accepts: parameters inside the caps, any salt and digest bytes."""
    r = draw(st.integers(1, 32))
    p = draw(st.integers(1, 16))
    ln = draw(st.integers(1, largest_ln(r, p)))
    salt = draw(st.binary(min_size=16, max_size=64))
    digest = draw(st.binary(min_size=HASH_BYTES, max_size=HASH_BYTES))
    return PinHash(ln, r, p, salt, digest)


def largest_ln(r: int, p: int) -> int:
    """The largest ln the parser accepts with `r` and `p`: under scrypt's own bound (N below
    2^(16·r)), the memory cap and the work cap."""
    by_memory = (MAX_MEMORY_WORK // r).bit_length() - 1
    by_work = (MAX_WORK // (r * p)).bit_length() - 1
    return min(MAX_LN, 16 * r - 1, by_memory, by_work)


@given(pin_hashes())
def test_the_stored_text_round_trips_exactly(stored):
    text = stored.text()
    assert parse_pin_hash(text) == stored
    assert parse_pin_hash(text).text() == text


@given(st.text(max_size=200))
def test_any_text_is_a_hash_or_a_pin_hash_error(text):
    try:
        stored = parse_pin_hash(text)
    except PinHashError:
        return
    assert stored.text() == text  # only the canonical form gets through


SAMPLE = hash_pin("4821", SALT, **CHEAP).text()
SALT_TEXT = b64url(SALT)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@given(st.integers(0, len(SAMPLE) - 1), st.characters(codec="ascii"))
def test_any_one_character_changed_is_refused_or_still_canonical(index, replacement):
    mutated = SAMPLE[:index] + replacement + SAMPLE[index + 1 :]
    try:
        stored = parse_pin_hash(mutated)
    except PinHashError:
        return
    assert stored.text() == mutated


@given(st.integers(0, len(SAMPLE)), st.text(min_size=1, max_size=3))
def test_inserted_text_is_refused_or_still_canonical(index, extra):
    mutated = SAMPLE[:index] + extra + SAMPLE[index:]
    try:
        stored = parse_pin_hash(mutated)
    except PinHashError:
        return
    assert stored.text() == mutated


@pytest.mark.parametrize(
    "text, says",
    [
        ("", "not a PIN hash"),
        (hashlib.sha256(b"1234").hexdigest(), "not a PIN hash"),  # the old unsalted format
        ("bcrypt$ln=14,r=8,p=1$abc$def", "unknown hash scheme (not scrypt)"),
        (SAMPLE + "\n", "not a PIN hash"),
        (" " + SAMPLE, "unknown hash scheme (not scrypt)"),
        (SAMPLE.replace("ln=4", "ln=04"), "not a PIN hash"),  # leading zero: not canonical
        (SAMPLE.replace("ln=4", "ln=21"), "outside"),
        (SAMPLE.replace("r=1,", "r=33,"), "outside"),
        (SAMPLE.replace("p=1$", "p=17$"), "outside"),
        (SAMPLE.replace("ln=4,r=1", "ln=16,r=1"), "not valid scrypt"),  # OpenSSL refuses it
        (SAMPLE.replace("ln=4,r=1", "ln=15,r=8"), "more memory"),  # slow on a Pi Zero
        (SAMPLE.replace("ln=4,r=1", "ln=17,r=2"), "more memory"),  # 4x the default's time
        (SAMPLE.replace("ln=4,r=1,p=1", "ln=14,r=8,p=3"), "more work"),
        (f"scrypt$ln=4,r=1,p=1${b64url(b'short')}${b64url(bytes(32))}", "salt is 5 bytes"),
        (f"scrypt$ln=4,r=1,p=1${b64url(SALT)}${b64url(bytes(31))}", "hash part is 31 bytes"),
        (f"scrypt$ln=4,r=1,p=1${b64url(SALT)}=${b64url(bytes(32))}", "not a PIN hash"),
        (SAMPLE.replace("$" + SALT_TEXT, "$+" + SALT_TEXT[1:]), "not a PIN hash"),  # not base64url
        (SAMPLE[:-1] + ALPHABET[ALPHABET.index(SAMPLE[-1]) + 1], "not canonical"),  # unused bits
    ],
)
def test_malformed_hashes_say_what_is_wrong(text, says):
    with pytest.raises(PinHashError) as raised:
        parse_pin_hash(text)
    assert says in str(raised.value)


def test_a_non_text_value_is_a_pin_hash_error():
    with pytest.raises(PinHashError):
        parse_pin_hash(1234)  # type: ignore[arg-type]


def test_only_the_right_pin_matches():
    stored = cheap_hash("4821")
    assert pin_matches("4821", stored)
    for wrong in ("4822", "48210", "482", "", "4821 ", "٤٨٢١"):  # the last: Arabic-Indic digits
        assert not pin_matches(wrong, stored)


def test_an_empty_or_broken_stored_hash_matches_nothing():
    assert not pin_matches("1234", "")
    assert not pin_matches("1234", hashlib.sha256(b"1234").hexdigest())
    assert not pin_matches("1234", cheap_hash("1234")[:-2])


def test_the_same_pin_with_another_salt_is_another_hash():
    one, other = cheap_hash("1234", SALT), cheap_hash("1234", SALT[::-1])
    assert one != other and pin_matches("1234", one) and pin_matches("1234", other)


def test_the_hash_is_scrypt_of_the_ascii_digits():
    """The stored digest is plain scrypt (RFC 7914): any implementation can check it."""
    stored = parse_pin_hash(cheap_hash("0000"))
    expected = hashlib.scrypt(b"0000", salt=SALT, n=16, r=1, p=1, dklen=32)
    assert stored.digest == expected


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "12 4", "", "１２３４", "٤٨٢١"])
def test_a_pin_is_four_to_eight_ascii_digits(pin):
    with pytest.raises(BadPin, match="4 to 8 digits"):
        check_pin(pin)
    with pytest.raises(BadPin):
        hash_pin(pin, SALT, **CHEAP)


def test_the_default_parameters_pass_the_strength_floor_and_cheap_ones_do_not():
    assert strength_problem(PinHash(DEFAULT_LN, 8, 1, SALT, bytes(32))) is None
    assert strength_problem(PinHash(DEFAULT_LN - 1, 8, 1, SALT, bytes(32))) is None
    assert "MiB" in strength_problem(PinHash(DEFAULT_LN - 2, 8, 1, SALT, bytes(32)))
    assert "MiB" in strength_problem(PinHash(4, 1, 1, SALT, bytes(32)))


def test_making_a_hash_refuses_parameters_past_the_caps():
    with pytest.raises(PinHashError, match="more memory"):
        hash_pin("1234", SALT, ln=15, r=8, p=1)
    with pytest.raises(PinHashError, match="more work"):
        hash_pin("1234", SALT, ln=14, r=8, p=3)
    with pytest.raises(PinHashError, match="not valid scrypt"):
        hash_pin("1234", SALT, ln=16, r=1, p=1)
    with pytest.raises(PinHashError, match="salt"):
        hash_pin("1234", b"short", **CHEAP)


@pytest.mark.parametrize("r", [1, 2, 8, 32])
def test_the_costliest_hashes_the_parser_accepts_can_be_checked(r):
    """Hostile review 2 H1: `config check` took ln=16..18 with r=1, and every PIN Enter then
    crashed the counter (OpenSSL refuses N of 2^(16·r) or more). Whatever the parser accepts,
    scrypt computes: here the most memory, then the most work, for each r."""
    ln = largest_ln(r, 1)
    p = min(MAX_P, MAX_WORK // ((1 << ln) * r))
    stored = hash_pin("1234", SALT, ln=ln, r=r, p=p)  # derives, so raises if scrypt refuses
    assert parse_pin_hash(stored.text()) == stored
    assert pin_matches("1234", stored.text()) and not pin_matches("1235", stored.text())


def test_the_hash_that_crashed_the_counter_matches_nothing():
    crashed = "scrypt$ln=16,r=1,p=1$" + b64url(SALT) + "$" + b64url(bytes(32))
    with pytest.raises(PinHashError, match="not valid scrypt"):
        parse_pin_hash(crashed)
    assert not pin_matches("1234", crashed)


def test_an_unknown_scheme_is_not_quoted():
    """The value is secret and may be a PIN typed in by mistake (hostile review 2 L6)."""
    with pytest.raises(PinHashError) as raised:
        parse_pin_hash("5831$")
    assert "5831" not in str(raised.value)
