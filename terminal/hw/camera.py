"""Cameras behind one interface: greyscale frames with timestamps from a Pi camera, a USB webcam,
a folder of images or a video file. The simulated camera lives in terminal/sim/camera.py and is
chosen, like every backend, by terminal/hw/factory.py."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}


class CameraError(RuntimeError):
    """The camera cannot be used: absent, busy or unsupported. The message names the device and
    the likely fix; retrying without a change will not help."""


@dataclass(frozen=True)
class Frame:
    gray: np.ndarray  # uint8, height × width
    timestamp: float  # seconds, monotonic (or scripted, for simulated cameras)
    index: int


class Camera(Protocol):
    name: str

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def read(self) -> Frame | None:
        """The next frame, or None when the source has ended."""


class Picamera2Camera:
    """Raspberry Pi camera through picamera2 (apt: python3-picamera2): the lores YUV420 stream's
    Y plane is already the greyscale frame the decoder wants, at no conversion cost."""

    name = "picamera2"

    def __init__(self, width: int = 640, height: int = 480, fps: int = 15, autofocus: bool = True):
        self.size, self.fps, self.autofocus = (width, height), fps, autofocus
        self._camera = None
        self._index = 0

    def start(self) -> None:
        try:
            from picamera2 import Picamera2
        except ImportError:
            raise CameraError(
                "picamera2 is not installed: sudo apt-get install python3-picamera2, and make "
                "the venv with --system-site-packages (scripts/setup does this on a Pi)"
            ) from None
        try:
            camera = Picamera2()
        except (IndexError, RuntimeError) as error:
            raise CameraError(
                f"no Raspberry Pi camera found ({error}); check the ribbon cable and "
                "`rpicam-hello --list-cameras`"
            ) from None
        config = camera.create_video_configuration(
            main={"size": self.size},
            lores={"size": self.size, "format": "YUV420"},
            controls={"FrameRate": self.fps},
        )
        camera.configure(config)
        if self.autofocus and "AfMode" in camera.camera_controls:
            from libcamera import controls

            camera.set_controls({"AfMode": controls.AfModeEnum.Continuous})
        try:
            camera.start()
        except RuntimeError as error:
            raise CameraError(f"the Pi camera is busy ({error}); stop the other program") from None
        self._camera = camera

    def read(self) -> Frame | None:
        if self._camera is None:
            raise CameraError("camera not started")
        yuv = self._camera.capture_array("lores")
        width, height = self.size
        self._index += 1
        return Frame(np.ascontiguousarray(yuv[:height, :width]), time.monotonic(), self._index)

    def stop(self) -> None:
        if self._camera is not None:
            self._camera.stop()
            self._camera.close()
            self._camera = None


class V4l2Camera:
    """USB webcam through OpenCV's V4L2 backend: MJPG at 640×480, a one-frame buffer so every
    frame read is fresh, not one queued while the decoder was busy."""

    name = "v4l2"

    def __init__(
        self, device: str = "/dev/video0", width: int = 640, height: int = 480, fps: int = 15
    ):
        self.device, self.size, self.fps = device, (width, height), fps
        self._capture = None
        self._index = 0

    def start(self) -> None:
        import cv2

        if not Path(self.device).exists():
            raise CameraError(
                f"{self.device} does not exist: is the webcam plugged in? (`ls /dev/video*`)"
            )
        capture = cv2.VideoCapture(self.device, cv2.CAP_V4L2)
        if not capture.isOpened():
            raise CameraError(
                f"cannot open {self.device}: busy in another program, or this user is not in "
                "the 'video' group (sudo usermod -aG video $USER)"
            )
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        capture.set(cv2.CAP_PROP_FPS, self.fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._capture = capture

    def read(self) -> Frame | None:
        import cv2

        if self._capture is None:
            raise CameraError("camera not started")
        ok, image = self._capture.read()
        if not ok:
            raise CameraError(f"{self.device} stopped delivering frames (unplugged?)")
        self._index += 1
        return Frame(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), time.monotonic(), self._index)

    def stop(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class FilesCamera:
    """Plays a folder of images (sorted by name) or a video file, once, at a nominal frame rate."""

    name = "files"

    def __init__(self, path: Path, fps: int = 15):
        self.path, self.fps = Path(path), fps
        self._images: list[Path] = []
        self._video = None
        self._index = 0

    def start(self) -> None:
        import cv2

        if self.path.is_dir():
            self._images = sorted(
                p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
            )
            if not self._images:
                raise CameraError(f"{self.path}: no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        elif self.path.is_file():
            self._video = cv2.VideoCapture(str(self.path))
            if not self._video.isOpened():
                raise CameraError(f"{self.path}: not a video file OpenCV can read")
        else:
            raise CameraError(f"{self.path}: no such folder or video file (paths.camera_files)")

    def read(self) -> Frame | None:
        import cv2

        timestamp = self._index / self.fps
        if self._video is not None:
            ok, image = self._video.read()
            if not ok:
                return None
            gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        else:
            if self._index >= len(self._images):
                return None
            gray = cv2.imread(str(self._images[self._index]), cv2.IMREAD_GRAYSCALE)
            if gray is None:
                raise CameraError(f"{self._images[self._index]}: not an image OpenCV can read")
        self._index += 1
        return Frame(gray, timestamp, self._index)

    def stop(self) -> None:
        if self._video is not None:
            self._video.release()
            self._video = None
