"""The one place that turns configuration into a device backend, real or simulated.

gpiozero's pin factory is the model: adapters never pick their own backend, and no product code
but this module names terminal.sim (tests/test_layering.py keeps it so)."""

from __future__ import annotations

from pathlib import Path

from terminal.hw.camera import Camera, CameraError, FilesCamera, Picamera2Camera, V4l2Camera


def open_camera(camera_config, paths_config, scene=None) -> Camera:
    """The camera the configuration names (not started). `scene`: the simulated camera's script
    (a list of terminal.sim.camera.Segment); by default a customer shows a sample token."""
    backend = camera_config.backend
    size = (camera_config.width, camera_config.height)
    if backend == "picamera2":
        return Picamera2Camera(*size, fps=camera_config.fps, autofocus=camera_config.autofocus)
    if backend == "v4l2":
        return V4l2Camera(camera_config.device, *size, fps=camera_config.fps)
    if backend == "files":
        if not paths_config.camera_files:
            raise CameraError("camera.backend = 'files' needs paths.camera_files")
        return FilesCamera(Path(paths_config.camera_files), fps=camera_config.fps)
    if backend == "sim":
        from terminal.sim.camera import SimCamera, customer_shows

        segments = scene if scene is not None else customer_shows("EU1:SAMPLE-TOKEN")
        return SimCamera(segments, fps=camera_config.fps, size=(size[1], size[0]))
    raise CameraError(f"unknown camera backend {backend!r}")
