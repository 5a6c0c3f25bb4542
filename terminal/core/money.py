"""Money as integer won: validation, parsing keyed-in amounts, display as Korean shops show it."""

from __future__ import annotations

# The largest amount the terminal handles: EMV tag 54 holds at most 13 characters, and no
# shop sale comes near ten billion won. Kept well inside that so sums never overflow a display.
MAX_AMOUNT_WON = 9_999_999_999


class AmountError(ValueError):
    """An amount is not a valid number of won; show the shopkeeper the message, do not retry."""


def require_won(amount: object, *, allow_zero: bool = False, name: str = "amount") -> int:
    """Returns `amount` if it is a whole number of won in range, else raises AmountError."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise AmountError(f"{name} must be a whole number of won, got {amount!r}")
    lowest = 0 if allow_zero else 1
    if amount < lowest:
        raise AmountError(f"{name} must be at least {lowest}원, got {amount}")
    if amount > MAX_AMOUNT_WON:
        raise AmountError(f"{name} must be at most {format_won(MAX_AMOUNT_WON)}, got {amount}")
    return amount


def format_won(amount: int) -> str:
    """12000 → '12,000원'; negative amounts (refunds) keep their sign: '-3,000원'."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise AmountError(f"amount must be a whole number of won, got {amount!r}")
    return f"{amount:,}원"


def parse_won(text: str) -> int:
    """Reads an amount as a shopkeeper or technician types it: '12000', '12,000', '12,000원'."""
    cleaned = text.strip().removesuffix("원").strip()
    digits = cleaned.replace(",", "")
    if not digits.isascii() or not digits.isdigit():
        raise AmountError(f"not an amount in won: {text!r}")
    if "," in cleaned:
        groups = cleaned.split(",")
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            raise AmountError(f"misplaced thousands separator in {text!r}")
    return require_won(int(digits))
