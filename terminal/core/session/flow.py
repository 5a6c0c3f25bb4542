"""Small helpers every flow uses: move to a screen, take a request id, type digits."""

from __future__ import annotations

from dataclasses import replace

from terminal.core.keys import Key
from terminal.core.session.commands import Command
from terminal.core.session.model import Context, Screen, State

Result = tuple[State, list[Command]]


def go(state: State, screen: Screen, *commands: Command, ctx: Context | None = None) -> Result:
    """The state with `screen` shown (and `ctx` if given), and the commands to run."""
    return State(screen, ctx or state.ctx), list(commands)


def take_request(ctx: Context) -> tuple[Context, int]:
    """A fresh request id: answers carry it, so a stale answer never matches a newer flow."""
    return replace(ctx, next_request=ctx.next_request + 1), ctx.next_request


def type_digits(digits: str, key: Key, limit: int) -> tuple[str, bool]:
    """`digits` after a digit, 00, backspace or clear key; False when the key would pass
    `limit` (the digits are then unchanged). No leading zeros: an amount never starts with 0."""
    if key is Key.BACKSPACE:
        return digits[:-1], True
    if key is Key.CLEAR:
        return "", True
    typed = (digits + (key.digit or "")).lstrip("0")
    if len(typed) > 10 or (typed and int(typed) > limit):
        return digits, False
    return typed, True


def is_typing_key(key: Key) -> bool:
    return key.digit is not None or key in (Key.BACKSPACE, Key.CLEAR)


def remember_paid(ctx: Context, *codes: str) -> Context:
    """Adds the codes that paid (text and token id) to the bounded recent list."""
    kept = ctx.config.paid_codes_kept
    fresh = tuple(code for code in codes if code)
    return replace(ctx, paid_codes=(ctx.paid_codes + fresh)[-kept:])
