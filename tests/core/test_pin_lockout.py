"""Wrong-PIN throttling at the counter: three wrong PINs in a row lock PIN entry for 30 s, each
further lock in a row twice as long up to 15 minutes; cancelling does not reset the count, a
right PIN does; time is only what Tick says."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from terminal.core.keys import Key, KeyEvent
from terminal.core.pin import hash_pin
from terminal.core.session import initial_state, step
from terminal.core.session.commands import CreateCharge, Feedback
from terminal.core.session.events import DayLoaded, Tick
from terminal.core.session.model import (
    CloseConfirm,
    Home,
    Notice,
    PinEntry,
    SessionConfig,
    State,
    Technician,
)
from terminal.core.session.pinlock import lock_length_ms, remaining_ms, wait_text

T0 = 1_790_000_000_000
PIN, OTHER = "2468", "1357"
CONFIG = SessionConfig(
    manager_pin_hash=hash_pin(PIN, b"manager-salt-16b", ln=4, r=1).text(),
    technician_pin_hash=hash_pin(OTHER, b"technician-salt!", ln=4, r=1).text(),
)


def locked_notice_shown(counter) -> bool:
    return is_locked_notice(counter.screen)


def is_locked_notice(screen) -> bool:
    return isinstance(screen, Notice) and screen.title == "PIN 입력 잠김"


class Counter:
    def __init__(self, config: SessionConfig = CONFIG):
        self.state = initial_state(config)
        self.now = T0
        self.send(DayLoaded((), T0), Tick(T0))

    def send(self, *events) -> list:
        out = []
        for event in events:
            self.state, commands = step(self.state, event)
            out += commands
        return out

    def keys(self, *names: str) -> list:
        return self.send(*(KeyEvent(Key(n), 0.0) for n in names))

    def wait(self, ms: int) -> None:
        self.now += ms
        self.send(Tick(self.now))

    def close_with(self, pin: str) -> list:
        """From home: F3 (day close), the PIN, Enter."""
        self.keys("cancel", "cancel")  # home from any screen these tests reach
        out = self.keys("F3")
        self.opened = self.screen  # PIN entry, or the locked notice
        return out + self.keys(*pin, "enter")

    @property
    def screen(self):
        return self.state.screen


def test_three_wrong_pins_lock_for_thirty_seconds_then_it_opens():
    counter = Counter()
    counter.keys("F3")
    for _ in range(2):
        counter.keys(*"0000", "enter")
        assert isinstance(counter.screen, PinEntry)
    out = counter.keys(*"0000", "enter")
    assert counter.screen == Notice(
        "PIN 입력 잠김", ("PIN이 맞지 않습니다.", "30초 후에 다시 하세요."), "error"
    )
    assert Feedback("refused") in out
    counter.wait(29_000)
    counter.keys("enter", "F3")
    assert counter.screen.lines == ("PIN을 여러 번 틀렸습니다.", "1초 후에 다시 하세요.")
    counter.wait(1_000)
    counter.close_with(PIN)
    assert isinstance(counter.screen, CloseConfirm)


def test_cancelling_between_tries_does_not_reset_the_count():
    counter = Counter()
    for _ in range(2):
        counter.close_with("9999")
        counter.keys("cancel")
    counter.close_with("9999")
    assert remaining_ms(counter.state.ctx) == 30_000


def test_the_count_spans_both_pins():
    counter = Counter()
    counter.keys("menu", *"9999", "enter", "cancel")
    counter.keys("F3", *"9999", "enter", *"9999", "enter")
    assert remaining_ms(counter.state.ctx) == 30_000
    counter.keys("enter", "menu")
    assert locked_notice_shown(counter)


def test_a_right_pin_while_locked_is_not_even_checked():
    """The lock starting while a PIN screen is open refuses its Enter, right PIN or not."""
    counter = Counter()
    counter.keys("F3", *"1111", "enter", *"1111", "enter", *"1111", "enter")
    counter.state = State(PinEntry("close"), counter.state.ctx)  # a screen opened before
    counter.keys(*PIN, "enter")
    assert locked_notice_shown(counter)
    assert counter.state.ctx.pin_failures == 3  # not counted again: not checked


def test_locks_in_a_row_double_up_to_fifteen_minutes_and_a_right_pin_resets():
    counter = Counter()
    seen = []
    for _ in range(8):
        for _ in range(3):
            counter.close_with("0000")
        seen.append(remaining_ms(counter.state.ctx))
        counter.wait(seen[-1])
    assert seen == [30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 900_000, 900_000]
    counter.close_with(PIN)
    assert isinstance(counter.screen, CloseConfirm)
    ctx = counter.state.ctx
    assert (ctx.pin_failures, remaining_ms(ctx)) == (0, 0)
    for _ in range(3):
        counter.close_with("0000")
    assert remaining_ms(counter.state.ctx) == 30_000  # back to the first lock


def test_a_clock_set_back_does_not_cut_the_lock_short():
    counter = Counter()
    for _ in range(3):
        counter.close_with("0000")
    counter.now -= 3_600_000  # the wall clock goes back an hour
    counter.send(Tick(counter.now))
    assert remaining_ms(counter.state.ctx) == 30_000
    counter.keys("enter", "menu")
    assert counter.screen.lines[1] == "30초 후에 다시 하세요."


def test_wait_text_never_says_less_than_the_wait():
    assert [wait_text(ms) for ms in (1, 999, 1_000, 1_001, 59_000, 60_000, 61_000, 900_000)] == [
        "1초",
        "1초",
        "1초",
        "2초",
        "59초",
        "1분",
        "2분",
        "15분",
    ]


ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("wrong"), st.sampled_from(["0000", "1234", "13579", "1357"])),
        st.tuples(st.just("right"), st.just(PIN)),
        st.tuples(st.just("wait"), st.integers(0, 1_000_000)),
        st.tuples(st.just("clock back"), st.integers(1, 10_000_000)),
    ),
    max_size=60,
)


def test_a_pin_typed_at_the_locked_notice_starts_no_sale():
    counter = Counter()
    for _ in range(3):
        counter.close_with("0000")
    counter.keys("enter")  # the notice of the lock itself
    out = counter.keys("F3", *PIN, "enter")
    assert Feedback("refused") in out and isinstance(counter.screen, Home)
    assert not [c for c in out if isinstance(c, CreateCharge)]


@given(ACTIONS)
def test_no_pin_is_checked_while_locked_and_locks_follow_the_rule(actions):
    """Whatever the order of tries and waits: a PIN is checked only when no lock is running
    (by the session's clock), a right PIN opens exactly then, each lock is the length the
    run of wrong PINs earned, and the failures count resets only on a right PIN."""
    counter = Counter()
    for kind, value in actions:
        if kind == "wait":
            counter.wait(value)
            continue
        if kind == "clock back":
            counter.wait(-value)
            continue
        before = counter.state.ctx
        locked = remaining_ms(before) > 0
        counter.close_with(value)
        after = counter.state.ctx
        if locked:
            assert after == before and is_locked_notice(counter.opened)
        elif kind == "right":
            assert isinstance(counter.screen, CloseConfirm)
            assert (after.pin_failures, remaining_ms(after)) == (0, 0)
        else:
            assert after.pin_failures == before.pin_failures + 1
            earned = lock_length_ms(after, after.pin_failures)
            assert remaining_ms(after) == earned
            assert earned in (0, 30_000, 60_000, 120_000, 240_000, 480_000, 900_000)
            assert (earned > 0) == (after.pin_failures % 3 == 0)


def test_with_no_pin_configured_the_protected_actions_stay_locked():
    counter = Counter(SessionConfig())
    counter.keys("menu", *"0000", "enter")
    assert not isinstance(counter.screen, Technician)
