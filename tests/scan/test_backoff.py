"""Hold-level back-off of the repairs: a spot that keeps failing is repaired only now and then,
never held back for long, and anything new (a read, a closed gate, another spot) starts afresh."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from terminal.scan.backoff import RepairBackoff
from terminal.scan.decoders import Decoded
from terminal.scan.pipeline import Pipeline, PipelineStats, ScanResult
from terminal.scan.worker import ScanWorker
from terminal.sim.camera import SimCamera, customer_shows
from terminal.sim.dataset import counter_holds

SPOT = (320, 240)


def _failed(centre=SPOT, held_back=False) -> ScanResult:
    return ScanResult([], PipelineStats(gated=True, held_back=held_back, centre=centre))


def _frame(backoff: RepairBackoff, centre=SPOT) -> bool:
    """One frame whose repairs fail at `centre`; whether they ran."""
    ran = backoff.allows(centre)
    backoff.update(_failed(centre, held_back=not ran))
    return ran


def test_after_three_failures_the_repairs_run_one_frame_in_three():
    backoff = RepairBackoff(patience=3, every=3)
    assert [_frame(backoff) for _ in range(12)] == [True] * 3 + [False, False, True] * 3


def test_a_read_a_closed_gate_or_another_spot_starts_afresh():
    backoff = RepairBackoff(patience=2, every=4)
    for _ in range(2):
        _frame(backoff)
    assert not backoff.allows(SPOT)
    backoff.update(ScanResult([Decoded("QRCode", "x")], PipelineStats(step="first")))
    assert backoff.allows(SPOT)
    for _ in range(3):
        _frame(backoff)
    backoff.update(ScanResult([], PipelineStats(gated=False)))
    assert backoff.allows(SPOT)
    for _ in range(3):
        _frame(backoff)
    assert backoff.allows((SPOT[0] + 200, SPOT[1]))  # the code moved elsewhere: repair there


def test_a_hand_trembling_around_one_spot_is_still_that_spot():
    backoff = RepairBackoff(patience=2, every=10, radius=48)
    for dx in (0, 20, -25, 30):
        _frame(backoff, (SPOT[0] + dx, SPOT[1] - dx))
    assert not backoff.allows((SPOT[0] + 40, SPOT[1]))


@given(
    st.integers(1, 5),
    st.integers(1, 6),
    st.lists(
        st.tuples(st.sampled_from(["fail", "read", "closed"]), st.integers(0, 2)), max_size=60
    ),
)
def test_repairs_are_never_held_back_longer_than_every_minus_one_frames(patience, every, frames):
    backoff = RepairBackoff(patience=patience, every=every)
    held_in_a_row = 0
    for outcome, spot in frames:
        centre = (100 + 300 * spot, 240)
        ran = backoff.allows(centre)
        held_in_a_row = 0 if ran else held_in_a_row + 1
        assert held_in_a_row <= every - 1
        if outcome == "read":
            backoff.update(ScanResult([Decoded("QRCode", "x")], PipelineStats(gated=True)))
        elif outcome == "closed":
            backoff.update(ScanResult([], PipelineStats()))
        else:
            backoff.update(_failed(centre, held_back=not ran))


@pytest.mark.parametrize("bad", [(0, 3, 48), (3, 0, 48), (3, 3, -1)])
def test_nonsense_settings_are_refused(bad):
    with pytest.raises(ValueError):
        RepairBackoff(*bad)


def test_an_empty_held_screen_runs_fewer_repairs_and_a_held_code_is_still_read():
    """On the simulated counter (seed 2, not the tuning seed): a held screen with no code whose
    gate opens on all 10 frames (found by scanning 30 empty holds once, frozen here) is repaired
    on 5 of them; a held defocused code is still read within its hold."""
    pipeline = Pipeline()
    empty = list(counter_holds("empty", 21, seed=2, frames=10))[20]
    backoff, results = RepairBackoff(), []
    for gray in empty.frames:
        results.append(pipeline.decode(gray, backoff.allows))
        backoff.update(results[-1])
    assert [r.codes for r in results] == [[]] * 10
    assert [r.stats.gated for r in results] == [True] * 10
    assert [r.stats.held_back for r in results] == [False] * 3 + [True, True, False] * 2 + [True]
    held = next(counter_holds("defocus", 1, seed=2, frames=10))
    backoff, texts = RepairBackoff(), set()
    for gray in held.frames:
        result = pipeline.decode(gray, backoff.allows)
        backoff.update(result)
        texts |= {code.text for code in result.codes}
    assert texts == {held.expected}


def test_the_scan_worker_with_back_off_reports_a_shown_token_once():
    token = "EU1:" + "7%W4QJ+8X0MFK6B.-:/$*ZNPAT" * 5
    camera = SimCamera(customer_shows(token), fps=10, seed=3)
    worker = ScanWorker(camera, Pipeline(), max_fps=10, hold_release_ms=1500, backoff=True)
    events = worker.run_to_end(timeout=120)
    assert [(e.code.format, e.code.text) for e in events] == [("QRCode", token)]
    assert worker.backoff is not None and worker.stats().pipeline_errors == 0
