"""A live simulated camera for driving the app: real-time paced frames of the counter, with a
customer's phone put in view and taken away by the script (`show`, `clear`).

Frames of each scene are rendered once and replayed, so reading one costs next to nothing:
the app's scan-loop CPU measured with it is the loop's own (decode and hold tracking)."""

from __future__ import annotations

import threading
import time

import numpy as np

from terminal.hw.camera import Frame
from terminal.sim.scene import PhoneShot, render

EMPTY = PhoneShot(text=None, phone_visible=False)
VARIANTS = 2  # noise differs between a scene's frames, as a real sensor's does


class LiveCamera:
    name = "live-sim"

    def __init__(self, fps: float = 10.0, size: tuple[int, int] = (480, 640), seed: int = 7):
        self.fps, self.size, self.seed = fps, size, seed
        self._shot = EMPTY
        self._cache: dict[tuple, list[np.ndarray]] = {}  # by (text, symbology, width)
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._start = 0.0
        self._index = 0
        self.frames_read = 0

    def show(self, text: str, symbology: str = "QRCode", code_width: float = 220.0) -> None:
        """A customer holds a phone showing `text` in front of the camera."""
        shot = PhoneShot(text=text, symbology=symbology, code_width=code_width)
        self._frames(shot)  # rendered now, not inside the scan loop
        with self._lock:
            self._shot = shot

    def clear(self) -> None:
        with self._lock:
            self._shot = EMPTY

    def _frames(self, shot: PhoneShot) -> list[np.ndarray]:
        name = (shot.text, shot.symbology, shot.code_width)
        frames = self._cache.get(name)
        if frames is None:
            frames = [
                render(shot, self.seed * 1000 + i, self.size, background_seed=self.seed)
                for i in range(VARIANTS)
            ]
            self._cache[name] = frames
        return frames

    def start(self) -> None:
        self._stopped.clear()
        self._start = time.monotonic()
        self._frames(EMPTY)

    def stop(self) -> None:
        self._stopped.set()

    def read(self) -> Frame | None:
        due = self._start + self._index / self.fps
        delay = due - time.monotonic()
        if delay > 0 and self._stopped.wait(delay):
            return None
        if self._stopped.is_set():
            return None
        with self._lock:
            shot = self._shot
        frame = self._frames(shot)[self._index % VARIANTS]
        self._index += 1
        self.frames_read += 1
        # Timestamps on the frame clock (index / fps), as a camera's sensor stamps them.
        return Frame(frame, (self._index - 1) / self.fps, self._index)
