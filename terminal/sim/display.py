"""The headless display: keeps every distinct frame in memory and, given a folder, writes each
as a PNG. For tests, CI and kits run without a panel."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from terminal.hw.device import DeviceCheck
from terminal.hw.layout import Layout


class HeadlessDisplay:
    name = "headless"

    def __init__(self, layout: Layout, folder: Path | None = None, keep: int = 1000):
        self.layout, self.folder, self.keep = layout, folder, keep
        self.frames: list[Image.Image] = []
        self.written: list[Path] = []
        self.shown = 0  # distinct frames shown, including those no longer kept
        self._last: bytes | None = None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def show(self, image: Image.Image) -> bool:
        if image.size != self.layout.canvas:
            raise ValueError(f"frame is {image.size}, the display's canvas is {self.layout.canvas}")
        frame = image.convert("RGB")
        data = frame.tobytes()
        if data == self._last:
            return False
        self._last = data
        self.shown += 1
        self.frames.append(frame)
        del self.frames[: -self.keep]
        if self.folder is not None:
            path = self.folder / f"frame-{self.shown:05d}.png"
            frame.save(path)
            self.written.append(path)
        return True

    @property
    def last(self) -> Image.Image | None:
        return self.frames[-1] if self.frames else None

    def check(self) -> DeviceCheck:
        return DeviceCheck(
            "display",
            self.name,
            str(self.folder) if self.folder else "memory",
            {"size": "{}×{}".format(*self.layout.canvas), "frames": str(self.shown)},
        )

    def close(self) -> None:
        """Nothing to release: frames stay readable after close for the test that asks."""
