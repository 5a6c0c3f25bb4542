"""Hold-level back-off: a spot whose repairs keep failing, frame after frame, is repaired only
now and then.

Something code-like that is not a code (a phone's home screen, a pixel grid's moiré, a
patterned sleeve) held in view opens the gate on every frame, and every frame then pays for all
the repairs: on the simulated counter's empty holds, twice zxing-cpp's own cost per frame. A
held code is different: the hand moves, the blur and the noise change, and one of the next
frames is often read by the first pass. So after `patience` frames in a row whose repairs failed
at about the same spot, the repairs run there only every `every`-th frame; a frame read, the
gate closing, or the spot moving away starts afresh.
"""

from __future__ import annotations

from terminal.scan.pipeline import ScanResult

PATIENCE = 3  # failed repairs in a row at one spot before backing off
EVERY = 3  # then the repairs run on one frame in this many
RADIUS = 48  # px: gate centres this close are the same spot (a hand's tremor between frames)


class RepairBackoff:
    """Ask `allows(centre)` before a frame's repairs, tell `update(result)` after. One per
    camera, frames in order; no clock: it counts frames."""

    def __init__(self, patience: int = PATIENCE, every: int = EVERY, radius: int = RADIUS):
        if patience < 1 or every < 1 or radius < 0:
            raise ValueError(f"patience, every ≥ 1 and radius ≥ 0: {patience}, {every}, {radius}")
        self.patience, self.every, self.radius = patience, every, radius
        self._spot: tuple[int, int] | None = None
        self._failures = 0  # failed repairs in a row at the spot
        self._held = 0  # frames held back since the repairs last ran there

    def allows(self, centre: tuple[int, int]) -> bool:
        """Whether the repairs may run at `centre` on this frame."""
        if not self._near(centre):
            self._spot, self._failures, self._held = centre, 0, 0
        if self._failures < self.patience or self._held + 1 >= self.every:
            self._held = 0
            return True
        self._held += 1
        return False

    def update(self, result: ScanResult) -> None:
        """Learns from the frame's result: a read or a closed gate starts afresh."""
        stats = result.stats
        if result.codes or not stats.gated:
            self._spot, self._failures, self._held = None, 0, 0
        elif not stats.held_back:
            self._spot = stats.centre
            self._failures += 1

    def _near(self, centre: tuple[int, int]) -> bool:
        if self._spot is None:
            return False
        return max(abs(centre[0] - self._spot[0]), abs(centre[1] - self._spot[1])) <= self.radius
