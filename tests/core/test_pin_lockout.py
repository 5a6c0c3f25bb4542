"""Wrong-PIN throttling at the counter: three wrong tries at a PIN lock PIN entry for 30 s, each
further lock in a row twice as long up to 15 minutes; cancelling does not reset the count, that
PIN typed right does (and only that PIN's count: knowing the technician PIN gives no free
guesses at the manager PIN); the lock runs on the monotonic time Tick carries, so a wall
clock set forward or back changes nothing; and what the app saves brings the counts and the
lock back after a restart (a power cut), with at least the time the lock had left."""

from __future__ import annotations

from dataclasses import replace

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
from terminal.core.session.pinlock import (
    MANAGER,
    SAVE_STEP_MS,
    TECHNICIAN,
    SavedPinLock,
    failures,
    lock_length_ms,
    next_lock_ms,
    remaining_ms,
    saved,
    tries_left,
    wait_text,
)

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
    """The session as the app runs it: `now` is the wall clock, `mono` the monotonic one. A
    counter started from `kept` is the app started again after it saved `kept`."""

    def __init__(
        self,
        config: SessionConfig = CONFIG,
        kept: SavedPinLock | None = None,
        mono: int = 5_000,
        now: int = T0,
    ):
        self.config = config
        self.state = initial_state(config, kept, mono)
        self.now, self.mono = now, mono
        self.send(DayLoaded((), now), Tick(now, mono))

    def send(self, *events) -> list:
        out = []
        for event in events:
            self.state, commands = step(self.state, event)
            out += commands
        return out

    def keys(self, *names: str) -> list:
        return self.send(*(KeyEvent(Key(n), 0.0) for n in names))

    def wait(self, ms: int) -> None:
        """Time passes: both clocks move on."""
        self.now += ms
        self.mono += ms
        self.send(Tick(self.now, self.mono))

    def set_clock(self, ms: int) -> None:
        """The wall clock is set forward (NTP's first sync) or back; no time passes."""
        self.now += ms
        self.send(Tick(self.now, self.mono))

    def restart(self, boot_mono: int = 3_000) -> Counter:
        """A power cut and a boot: what the app saved after the last event comes back; the
        monotonic clock starts again near 0."""
        return Counter(self.config, saved(self.state.ctx), boot_mono, self.now)

    def try_pin(self, which: str, pin: str) -> list:
        """From home: F3 (day close: the manager PIN) or MENU (the technician PIN), `pin`,
        Enter."""
        self.keys("cancel", "cancel")  # home from any screen these tests reach
        out = self.keys("F3" if which == MANAGER else "menu")
        self.opened = self.screen  # PIN entry, or the locked notice
        return out + self.keys(*pin, "enter")

    def close_with(self, pin: str) -> list:
        return self.try_pin(MANAGER, pin)

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


def test_each_pin_has_its_own_count_and_a_lock_locks_both():
    counter = Counter()
    for _ in range(2):
        counter.try_pin(TECHNICIAN, "9999")
        counter.try_pin(MANAGER, "9999")
    assert remaining_ms(counter.state.ctx) == 0
    counter.try_pin(MANAGER, "9999")  # the third wrong manager PIN
    assert remaining_ms(counter.state.ctx) == 30_000
    counter.try_pin(TECHNICIAN, OTHER)  # the same person at the counter: locked too
    assert is_locked_notice(counter.opened)


def test_a_right_technician_pin_does_not_reset_the_manager_count():
    """Hostile review 2 M4: two wrong manager PINs, then the right technician PIN, again and
    again, gave unlimited guesses at the manager PIN (30 wrong, no lock)."""
    counter = Counter()
    for lock in (30_000, 60_000):
        for wrong in ("0000", "1111"):
            counter.close_with(wrong)
            counter.try_pin(TECHNICIAN, OTHER)
            assert isinstance(counter.screen, Technician)
        counter.close_with("2222")
        assert remaining_ms(counter.state.ctx) == lock
        counter.wait(lock)
    counter.close_with(PIN)
    assert isinstance(counter.screen, CloseConfirm) and failures(counter.state.ctx, MANAGER) == 0


def test_a_right_pin_while_locked_is_not_even_checked():
    """The lock starting while a PIN screen is open refuses its Enter, right PIN or not."""
    counter = Counter()
    counter.keys("F3", *"1111", "enter", *"1111", "enter", *"1111", "enter")
    counter.state = State(PinEntry("close"), counter.state.ctx)  # a screen opened before
    counter.keys(*PIN, "enter")
    assert locked_notice_shown(counter)
    assert counter.state.ctx.manager_pin_failures == 3  # not counted again: not checked


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
    assert (ctx.manager_pin_failures, remaining_ms(ctx)) == (0, 0)
    for _ in range(3):
        counter.close_with("0000")
    assert remaining_ms(counter.state.ctx) == 30_000  # back to the first lock


def test_a_clock_set_back_does_not_stretch_the_lock():
    counter = Counter()
    for _ in range(3):
        counter.close_with("0000")
    counter.set_clock(-3_600_000)  # the wall clock goes back an hour
    assert remaining_ms(counter.state.ctx) == 30_000
    counter.keys("enter", "menu")
    assert counter.screen.lines[1] == "30초 후에 다시 하세요."
    counter.wait(30_000)
    counter.close_with(PIN)
    assert isinstance(counter.screen, CloseConfirm)


def test_a_clock_set_forward_does_not_end_the_lock():
    """NTP's first sync on a Pi without a real-time clock moves the wall clock by hours."""
    counter = Counter(now=0)  # booted in 1970
    for _ in range(3):
        counter.close_with("0000")
    counter.wait(1_000)
    counter.set_clock(T0)  # 1970 → 2026
    assert remaining_ms(counter.state.ctx) == 29_000
    counter.close_with(PIN)
    assert is_locked_notice(counter.opened) and not isinstance(counter.screen, CloseConfirm)


def test_a_restart_during_a_lock_keeps_it_for_the_time_it_had_left():
    counter = Counter()
    for _ in range(3):
        counter.close_with("0000")
    counter.wait(12_000)
    booted = counter.restart(boot_mono=700)  # monotonic time starts again at boot
    assert booted.state.ctx.manager_pin_failures == 3
    assert remaining_ms(booted.state.ctx) == 30_000  # 18 s left, saved rounded up to 30 s
    booted.close_with(PIN)
    assert is_locked_notice(booted.opened)
    booted.wait(29_999)
    booted.close_with(PIN)
    assert is_locked_notice(booted.opened)
    booted.wait(1)
    booted.close_with(PIN)
    assert isinstance(booted.screen, CloseConfirm)


def test_a_restart_keeps_the_count_and_the_doubling():
    counter = Counter()
    for _ in range(2):
        counter.close_with("0000")
    booted = counter.restart()
    booted.close_with("0000")  # the third in a row, across the restart
    assert remaining_ms(booted.state.ctx) == 30_000
    booted.wait(30_000)
    booted = booted.restart(boot_mono=0)
    assert remaining_ms(booted.state.ctx) == 0  # the lock ran out: nothing left to wait
    for _ in range(3):
        booted.close_with("0000")
    assert remaining_ms(booted.state.ctx) == 60_000  # the second lock in a row


def test_the_saved_lock_changes_only_every_step():
    """The app writes the file whenever `saved` changes: a 15-minute lock, ticked every 250 ms
    as the app does, is about 30 writes, not 3,600."""
    counter = Counter(replace(CONFIG, pin_lockout_ms=900_000))
    for _ in range(3):
        counter.close_with("0000")
    seen = [saved(counter.state.ctx)]
    for _ in range(900_000 // 250):
        counter.wait(250)
        if saved(counter.state.ctx) != seen[-1]:
            seen.append(saved(counter.state.ctx))
    assert len(seen) == 900_000 // SAVE_STEP_MS + 1
    assert seen[0] == SavedPinLock(3, 0, 900_000) and seen[-1] == SavedPinLock(3, 0, 0)


def test_a_saved_lock_never_runs_past_the_longest_lock():
    counter = Counter(kept=SavedPinLock(3, 0, 10**12))
    assert remaining_ms(counter.state.ctx) == CONFIG.pin_lockout_max_ms


def test_an_unreadable_saved_lock_counts_as_a_lock():
    counter = Counter(kept=SavedPinLock.unknown(CONFIG))
    assert remaining_ms(counter.state.ctx) == 30_000
    counter.close_with(PIN)
    assert is_locked_notice(counter.opened)


def test_the_tries_left_come_from_the_count_that_decides_the_lock():
    """After a lock, cancelling and coming back, the screen still counts towards the next lock
    (it said "(1회)" on the fourth wrong PIN in a row)."""
    counter = Counter()

    def ctx():
        return counter.state.ctx

    assert tries_left(ctx(), MANAGER) == 3
    counter.close_with("0000")
    assert (tries_left(ctx(), MANAGER), next_lock_ms(ctx(), MANAGER)) == (2, 30_000)
    assert (tries_left(ctx(), TECHNICIAN), next_lock_ms(ctx(), TECHNICIAN)) == (3, 30_000)
    counter.close_with("0000")
    counter.close_with("0000")
    counter.wait(30_000)
    counter.close_with("0000")  # the fourth in a row, on a fresh PIN screen
    assert isinstance(counter.screen, PinEntry)
    assert (tries_left(ctx(), MANAGER), next_lock_ms(ctx(), MANAGER)) == (2, 60_000)


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


RIGHT = {MANAGER: PIN, TECHNICIAN: OTHER}
ACTIONS = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from([MANAGER, TECHNICIAN]),
            st.sampled_from(["0000", "1234", "13579", PIN, OTHER]),
        ),
        st.tuples(st.just("wait"), st.integers(0, 1_000_000)),
        st.tuples(st.just("clock back"), st.integers(1, 10_000_000_000)),
        st.tuples(st.just("clock forward"), st.integers(1, 10_000_000_000)),
        st.tuples(st.just("restart"), st.integers(0, 10_000_000)),  # the monotonic time at boot
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
    """Whatever the order of tries, waits, clock changes and restarts: a PIN is checked only
    when no lock is running, and a lock holds for at least the time it earned, counted only
    while the terminal runs (a wall clock set forward or back, or a restart, takes none off;
    a restart may add up to one SAVE_STEP_MS, never past the lock's length). Each lock is the
    length the run of wrong tries at one PIN earned, and a PIN's count resets only when that
    PIN is typed right; the other PIN's count never moves then."""
    counter = Counter()
    owed = length = restarts = 0  # the model: the lock's time still owed, by real running time
    for kind, value in actions:
        before = counter.state.ctx
        if kind == "wait":
            counter.wait(value)
            owed = max(0, owed - value)
        elif kind in ("clock back", "clock forward"):
            counter.set_clock(-value if kind == "clock back" else value)
            assert remaining_ms(counter.state.ctx) == remaining_ms(before)
        elif kind == "restart":
            counter = counter.restart(value)
            restarts += 1
            for pin in (MANAGER, TECHNICIAN):
                assert failures(counter.state.ctx, pin) == failures(before, pin)
        else:
            other = TECHNICIAN if kind == MANAGER else MANAGER
            locked = remaining_ms(before) > 0
            counter.try_pin(kind, value)
            after = counter.state.ctx
            if locked:
                assert after == before and is_locked_notice(counter.opened)
                continue
            assert failures(after, other) == failures(before, other)
            if value == RIGHT[kind]:
                assert isinstance(counter.screen, CloseConfirm if kind == MANAGER else Technician)
                assert (failures(after, kind), remaining_ms(after)) == (0, 0)
            else:
                count = failures(after, kind)
                assert count == failures(before, kind) + 1
                earned = lock_length_ms(after, count)
                assert remaining_ms(after) == earned
                assert earned in (0, 30_000, 60_000, 120_000, 240_000, 480_000, 900_000)
                assert (earned > 0) == (count % 3 == 0)
                if earned:
                    owed, length, restarts = earned, earned, 0
        left = remaining_ms(counter.state.ctx)
        assert owed <= left <= min(length, owed + restarts * SAVE_STEP_MS)


def test_with_no_pin_configured_the_protected_actions_stay_locked():
    counter = Counter(SessionConfig())
    counter.keys("menu", *"0000", "enter")
    assert not isinstance(counter.screen, Technician)
