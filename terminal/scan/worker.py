"""The scan worker: reads the camera off the UI thread, decodes at a bounded rate, and hands
each newly held code to the session as a ScanEvent on a queue. It never blocks the display.

A pipeline failure on one frame (a decoder library raising on odd input) must neither kill the
thread silently nor stop the scanning: it is counted, put on the `faults` queue as a ScanFault
the app can show, logged (with its traceback the first time), and the next frame is read."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

from terminal.hw.camera import Camera, CameraError, Frame
from terminal.scan.backoff import RepairBackoff
from terminal.scan.decoders import FORMATS, Decoded
from terminal.scan.fusion import Fusion
from terminal.scan.holds import HoldTracker
from terminal.scan.pipeline import Pipeline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanEvent:
    code: Decoded
    timestamp: float  # the frame's timestamp
    frame_index: int
    step: str  # which pipeline step read it ("fusion": several frames fused)


@dataclass(frozen=True)
class ScanFault:
    """A frame the pipeline failed on; scanning went on with the next frame."""

    timestamp: float
    frame_index: int
    message: str  # "ExceptionType: text", one line


@dataclass(frozen=True)
class ScanStats:
    frames_read: int
    frames_decoded: int
    fps: float  # decoded frames per second of camera time
    cpu_percent: float  # the worker thread's CPU time over its wall time
    last_error: str | None  # the camera's failure, or the last frame the pipeline failed on
    pipeline_errors: int = 0  # frames the pipeline raised on (each also a ScanFault)


class ScanWorker:
    """Runs `camera` → `pipeline` → `Fusion` → `HoldTracker` in a thread; events arrive on
    `events`.

    Frames closer together than 1/max_fps (by their own timestamps) are skipped, so a fast
    camera cannot make the decoder use more than its share of the CPU. terminal/scan/fusion.py
    holds back a Code128 read until ZBar or a second frame agrees; with `fuse`, it also reads
    codes held over several unread frames from their aligned mean. Fusing is off by default:
    on the fresh holds of `scripts/bench scan` (seed 3) it read no hold that single frames did
    not, and cost 0.3× zxing-cpp's time more per frame of held screens with no code. With
    `backoff`, a spot whose repairs keep failing is repaired only now and then
    (terminal/scan/backoff.py). Off by default too: on the fresh holds of seed 4 it lost one
    hold (60 → 59 of 65) and saved little (empty holds 0.66× → 0.64× zxing-cpp per frame), the
    repair gates alone having made held empty screens cheap.
    """

    def __init__(
        self,
        camera: Camera,
        pipeline: Pipeline,
        max_fps: int,
        hold_release_ms: int,
        fuse: bool = False,
        backoff: bool = False,
    ):
        self.camera, self.pipeline = camera, pipeline
        self.fusion = _fusion(pipeline, fuse)
        self.backoff = RepairBackoff() if backoff else None
        self.min_interval = 1.0 / max_fps
        self.holds = HoldTracker(hold_release_ms)
        self.events: queue.Queue[ScanEvent] = queue.Queue()
        self.faults: queue.Queue[ScanFault] = queue.Queue()
        self.finished = threading.Event()  # set when the camera ended, failed or stop() was called
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._read = self._decoded = 0
        self._first_ts: float | None = None
        self._last_ts: float | None = None
        self._cpu = 0.0
        self._wall = 0.0
        self._error: str | None = None
        self._pipeline_errors = 0

    def start(self) -> None:
        self.camera.start()  # a CameraError surfaces here, in the caller, before any thread
        self._thread = threading.Thread(target=self._run, name="scan-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.camera.stop()

    def run_to_end(self, timeout: float | None = None) -> list[ScanEvent]:
        """Runs a finite camera (simulated scene, image folder, video) to its end; its events."""
        self.start()
        ended = self.finished.wait(timeout)
        self.stop()
        if not ended:
            raise TimeoutError(f"the camera did not end within {timeout} s")
        return self.drain()

    def drain(self) -> list[ScanEvent]:
        """The events waiting on the queue, oldest first, without blocking."""
        events = []
        while True:
            try:
                events.append(self.events.get_nowait())
            except queue.Empty:
                return events

    def stats(self) -> ScanStats:
        span = (self._last_ts - self._first_ts) if self._first_ts is not None else 0.0
        fps = (self._decoded - 1) / span if span > 0 and self._decoded > 1 else 0.0
        cpu = 100.0 * self._cpu / self._wall if self._wall > 0 else 0.0
        return ScanStats(self._read, self._decoded, fps, cpu, self._error, self._pipeline_errors)

    def _decode(self, frame: Frame) -> None:
        try:
            if self.backoff is None:
                result = self.pipeline.decode(frame.gray)
            else:
                result = self.pipeline.decode(frame.gray, self.backoff.allows)
                self.backoff.update(result)
            codes = result.codes
            if self.fusion is not None:
                codes = self.fusion.update(frame.gray, result)
        except Exception as error:  # one bad frame must not end the scanning: see module doc
            self._fault(frame, error)
            return
        step = result.stats.step if result.codes or not codes else "fusion"
        for code in self.holds.update(codes, int(frame.timestamp * 1000)):
            self.events.put(ScanEvent(code, frame.timestamp, frame.index, step))

    def _fault(self, frame: Frame, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}".splitlines()[0]
        self._pipeline_errors += 1
        self._error = f"frame {frame.index}: {message}"
        self.faults.put(ScanFault(frame.timestamp, frame.index, message))
        # The traceback once; after that a count, so a decoder failing on every frame does not
        # flood the log at 15 lines a second.
        if self._pipeline_errors == 1:
            log.exception("pipeline failed on frame %d; scanning goes on", frame.index)
        else:
            log.debug("pipeline failed on frame %d: %s", frame.index, message)

    def _run(self) -> None:
        wall_start, cpu_start = time.monotonic(), time.thread_time()
        next_due = float("-inf")
        try:
            while not self._stop.is_set():
                frame = self.camera.read()
                if frame is None:
                    break
                self._read += 1
                # A millisecond of slack: timestamps i/fps and (i-1)/fps + 1/fps may differ in
                # their last bit, and a frame exactly on time must not be skipped.
                if frame.timestamp < next_due - 0.001:
                    continue
                next_due = frame.timestamp + self.min_interval
                self._decoded += 1
                self._first_ts = frame.timestamp if self._first_ts is None else self._first_ts
                self._last_ts = frame.timestamp
                self._decode(frame)
                self._cpu = time.thread_time() - cpu_start
                self._wall = time.monotonic() - wall_start
        except CameraError as error:
            self._error = str(error)
            log.error("camera stopped: %s", error)
        finally:
            self.finished.set()


def _fusion(pipeline: Pipeline, average: bool) -> Fusion | None:
    if not average:
        return Fusion(average=False)
    try:  # the fused patches are read for the formats the camera's frames are read for
        return Fusion(Pipeline(("zxing",), getattr(pipeline, "formats", FORMATS)))
    except RuntimeError as error:  # no zxing-cpp here: frames are read one by one
        log.warning("multi-frame fusion unavailable: %s", error)
        return None
