"""The PIN lock outlives the app (code review 2, M1): the real app on a real state directory
saves wrong PINs and a running lock in pin-lock.json as they happen, and the next start (after
a clean stop or a power cut) is still locked; a wall clock set forward does not end the lock.
And the file itself: written whole or not at all, only when it changes, read strictly (a file
that cannot be read is a lock)."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from terminal.app import loop
from terminal.app.pin_lock_file import NAME, PinLockFile
from terminal.core.keys import KeyEvent
from terminal.core.session.model import CloseConfirm, Home, Notice, PinEntry, SessionConfig
from terminal.core.session.pinlock import LOCKED_TITLE, SavedPinLock, remaining_ms
from tests.app.kit import MANAGER_PIN, Kit

WRONG = "0000" if MANAGER_PIN != "0000" else "1111"


def locked(state) -> bool:
    return isinstance(state.screen, Notice) and state.screen.title == LOCKED_TITLE


def started(state_dir) -> Kit:
    kit = Kit(state_dir)
    kit.app.run(until=kit.screen_is(Home), timeout=10)
    return kit


def wrong_manager_pins(count: int, screen):
    """The app's state has counted `count` wrong manager PINs and shows a `screen`."""
    return lambda s: isinstance(s.screen, screen) and s.ctx.manager_pin_failures == count


def three_wrong_pins(kit: Kit) -> None:
    kit.app.press("F3")
    for _ in range(2):
        kit.app.press(*WRONG, "enter")
    kit.app.run(until=wrong_manager_pins(2, PinEntry), timeout=10)
    kit.app.press(*WRONG, "enter")
    kit.app.run(until=locked, timeout=10)


def try_the_right_pin(kit: Kit) -> list:
    """Back home, F3 (day close), the manager PIN, Enter: the screens the app went through."""
    kit.log.clear()
    keys = ("cancel", "cancel", "F3", *MANAGER_PIN, "enter")
    kit.app.press(*keys)
    kit.app.run(until=lambda _: len(key_events(kit)) == len(keys), timeout=10)
    return [state.screen for _, state, _ in kit.log]


def key_events(kit: Kit) -> list:
    return [event for event, _, _ in kit.log if isinstance(event, KeyEvent)]


def refused_while_locked(screens: list) -> bool:
    notices = [s for s in screens if isinstance(s, Notice) and s.title == LOCKED_TITLE]
    return bool(notices) and not any(isinstance(s, CloseConfirm) for s in screens)


def test_wrong_pins_then_a_restart_and_the_lock_still_holds(tmp_path):
    state_dir = tmp_path / "state"
    kit = started(state_dir)
    try:
        kit.app.press("F3", *WRONG, "enter", "cancel")
        kit.app.run(until=wrong_manager_pins(1, Home), timeout=10)
    finally:
        kit.app.shutdown()
    saved = json.loads((state_dir / NAME).read_text())
    assert saved == {
        "version": 1,
        "manager_failures": 1,
        "technician_failures": 0,
        "remaining_ms": 0,
    }

    kit = started(state_dir)  # the count comes back: two more wrong PINs lock
    try:
        assert kit.app.state.ctx.manager_pin_failures == 1
        kit.app.press("F3", *WRONG, "enter", *WRONG, "enter")
        kit.app.run(until=locked, timeout=10)
    finally:
        kit.app.shutdown()

    kit = Kit(state_dir)
    try:
        # The whole lock again from this start (it was saved as 30 s left, rounded up).
        assert remaining_ms(kit.app.state.ctx) == 30_000
        kit.app.run(until=kit.screen_is(Home), timeout=10)
        assert refused_while_locked(try_the_right_pin(kit)), "the PIN was checked while locked"
    finally:
        kit.app.shutdown()


def test_a_power_cut_during_a_lock_leaves_it_locked(tmp_path):
    """What is on disk the moment the lock starts is what a power cut leaves: the app saves
    (fsync and rename) before it carries out the step's commands."""
    kit = started(tmp_path / "state")
    booted_dir = tmp_path / "booted"
    booted_dir.mkdir()
    try:
        three_wrong_pins(kit)
        shutil.copy(tmp_path / "state" / NAME, booted_dir / NAME)  # the card, pulled now
    finally:
        kit.app.shutdown()
    kit = started(booted_dir)
    try:
        assert kit.app.state.ctx.manager_pin_failures == 3
        assert refused_while_locked(try_the_right_pin(kit))
    finally:
        kit.app.shutdown()


def test_the_wall_clock_set_forward_does_not_end_the_lock(tmp_path, monkeypatch):
    kit = started(tmp_path / "state")
    try:
        three_wrong_pins(kit)
        real = loop.wall_ms
        monkeypatch.setattr(loop, "wall_ms", lambda: real() + 10 * 3_600_000)  # NTP: +10 h
        now = kit.app.state.ctx.now_ms
        kit.app.run(until=lambda s: s.ctx.now_ms > now + 3_600_000, timeout=10)
        assert refused_while_locked(try_the_right_pin(kit))
    finally:
        kit.app.shutdown()


# --- the file ---------------------------------------------------------------------------------

CONFIG = SessionConfig()


def test_no_file_is_no_lock_and_a_kept_lock_reads_back(tmp_path):
    assert PinLockFile(tmp_path).load(CONFIG) == SavedPinLock()
    PinLockFile(tmp_path).keep(SavedPinLock(6, 2, 60_000))
    assert PinLockFile(tmp_path).load(CONFIG) == SavedPinLock(6, 2, 60_000)
    assert [p.name for p in tmp_path.iterdir()] == [NAME]  # no temporary file left behind
    (tmp_path / NAME).write_text(json.dumps(GOOD))
    assert PinLockFile(tmp_path).load(CONFIG) == SavedPinLock()


def test_it_is_written_only_when_it_changes(tmp_path):
    pins = PinLockFile(tmp_path)
    pins.load(CONFIG)
    pins.keep(SavedPinLock())  # what the missing file means already: nothing to write
    assert not (tmp_path / NAME).exists()
    pins.keep(SavedPinLock(1, 0, 0))
    inode = (tmp_path / NAME).stat().st_ino
    pins.keep(SavedPinLock(1, 0, 0))
    assert (tmp_path / NAME).stat().st_ino == inode  # each write is a new file renamed in
    pins.keep(SavedPinLock(0, 1, 0))
    assert (tmp_path / NAME).stat().st_ino != inode


GOOD = {"version": 1, "manager_failures": 0, "technician_failures": 0, "remaining_ms": 0}
BAD_VALUES = [
    {"version": 2},
    {"manager_failures": -1},
    {"manager_failures": True},
    {"technician_failures": "1"},
    {"remaining_ms": 1.5},
    {"remaining_ms": 10**13},
]


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"\xff\xfe",
        b"[]",
        *(json.dumps({**GOOD, **change}).encode() for change in BAD_VALUES),
        json.dumps({key: value for key, value in GOOD.items() if key != "remaining_ms"}).encode(),
        b" " * 5000,
    ],
)
def test_a_file_that_cannot_be_read_is_a_lock_and_is_repaired(tmp_path, caplog, content):
    (tmp_path / NAME).write_bytes(content)
    pins = PinLockFile(tmp_path)
    with caplog.at_level(logging.ERROR):
        kept = pins.load(CONFIG)
    assert kept == SavedPinLock.unknown(CONFIG) == SavedPinLock(3, 3, 30_000)
    assert NAME in caplog.text and "starts locked" in caplog.text
    pins.keep(kept)  # the session saves its first state: the file is whole again
    assert PinLockFile(tmp_path).load(CONFIG) == kept


def test_a_directory_it_cannot_write_is_logged_once_per_value(tmp_path, caplog):
    pins = PinLockFile(tmp_path / "gone")
    with caplog.at_level(logging.ERROR):
        for _ in range(5):  # the app calls keep after every event, four Ticks a second
            pins.keep(SavedPinLock(1, 0, 0))
        pins.keep(SavedPinLock(2, 0, 0))
    assert len(caplog.records) == 2 and "not saved" in caplog.text
