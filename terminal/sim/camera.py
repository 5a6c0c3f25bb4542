"""The simulated camera: scripted scenes in which a customer's phone comes into view, is held,
and leaves; or any list of shots. Frames are rendered on demand, deterministic from a seed."""

from __future__ import annotations

from dataclasses import dataclass, replace

from terminal.hw.camera import Frame
from terminal.sim.scene import PhoneShot, render

NOBODY = PhoneShot(text=None, phone_visible=False)


@dataclass(frozen=True)
class Segment:
    """`seconds` of one shot; a shot whose centre moves is interpolated from `start` to `end`."""

    seconds: float
    shot: PhoneShot
    end_centre: tuple[float, float] | None = None


def customer_shows(
    text: str,
    symbology: str = "QRCode",
    hold_seconds: float = 1.5,
    code_width: float = 200.0,
) -> list[Segment]:
    """Nobody; the phone swings in (motion-blurred); held steady; swings out; nobody."""
    held = PhoneShot(
        text=text,
        symbology=symbology,
        centre=(320, 240),
        code_width=code_width,
        rotation_deg=-6.0,
        tilt=(0.05, 0.03),
    )
    moving = replace(held, motion=(18.0, 0.0))
    return [
        Segment(0.6, NOBODY),
        Segment(0.4, replace(moving, centre=(80, 260)), end_centre=(300, 245)),
        Segment(hold_seconds, held),
        Segment(0.4, replace(moving, centre=(330, 240)), end_centre=(600, 220)),
        Segment(0.8, NOBODY),
    ]


class SimCamera:
    """A camera that plays `segments` at `fps`; frame timestamps are scripted (index / fps),
    so whoever reads it decides the pace and tests need no clock."""

    name = "sim"

    def __init__(
        self,
        segments: list[Segment],
        fps: int = 15,
        size: tuple[int, int] = (480, 640),
        seed: int = 0,
        loop: bool = False,
    ):
        if not segments or any(s.seconds <= 0 for s in segments):
            raise ValueError("a simulated scene needs segments of positive length")
        self.segments, self.fps, self.size, self.seed, self.loop = segments, fps, size, seed, loop
        self.total_seconds = sum(s.seconds for s in segments)
        self._index = 0

    def start(self) -> None:
        """Nothing to open: frames are rendered on demand."""

    def stop(self) -> None:
        """Nothing to release."""

    def shot_at(self, seconds: float) -> PhoneShot | None:
        if self.loop:
            seconds %= self.total_seconds
        for segment in self.segments:
            if seconds < segment.seconds:
                shot = segment.shot
                if segment.end_centre is not None:
                    share = seconds / segment.seconds
                    (x0, y0), (x1, y1) = shot.centre, segment.end_centre
                    shot = replace(shot, centre=(x0 + (x1 - x0) * share, y0 + (y1 - y0) * share))
                return shot
            seconds -= segment.seconds
        return None

    def read(self) -> Frame | None:
        timestamp = self._index / self.fps
        shot = self.shot_at(timestamp)
        if shot is None:
            return None
        gray = render(shot, self.seed * 100_003 + self._index, self.size, background_seed=self.seed)
        self._index += 1
        return Frame(gray, timestamp, self._index)
