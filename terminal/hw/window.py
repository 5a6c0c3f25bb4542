"""A desktop window display (laptops, Pi OS with a desktop), with the window's keyboard and mouse
as key input.

Why pygame: its wheels bundle SDL2 for x86-64, aarch64 and armv7 (piwheels), so `pip install`
is enough on a laptop and a Pi alike; it blits an RGB buffer without conversion and reports keys
and clicks from X11 and Wayland. tkinter would need apt's python3-tk and Pillow's ImageTk; Qt is
tens of megabytes for one window."""

from __future__ import annotations

import os
from collections import deque

from PIL import Image

from terminal.core.keys import Key, KeyEvent
from terminal.hw.device import DeviceCheck, DeviceUnavailable, missing_library
from terminal.hw.layout import Layout, TouchTarget, hit


def _pygame():
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import pygame
    except ImportError:
        raise missing_library(
            "display window", "pygame", "pip install pygame (or display.backend = 'framebuffer')"
        ) from None
    return pygame


def key_table(pygame) -> dict[int, Key]:
    """Laptop keys for the terminal's keys: digits and the numeric keypad, Enter, Backspace,
    Delete = clear, Escape = cancel, Tab = menu, +, F1-F4, and '.' on the keypad = 00."""
    table = {getattr(pygame, f"K_{n}"): Key(str(n)) for n in range(10)}
    table |= {getattr(pygame, f"K_KP{n}"): Key(str(n)) for n in range(10)}
    table |= {getattr(pygame, f"K_F{n}"): Key(f"F{n}") for n in range(1, 5)}
    table |= {
        pygame.K_RETURN: Key.ENTER,
        pygame.K_KP_ENTER: Key.ENTER,
        pygame.K_BACKSPACE: Key.BACKSPACE,
        pygame.K_DELETE: Key.CLEAR,
        pygame.K_ESCAPE: Key.CANCEL,
        pygame.K_TAB: Key.MENU,
        pygame.K_PLUS: Key.PLUS,
        pygame.K_KP_PLUS: Key.PLUS,
        pygame.K_KP_PERIOD: Key.DOUBLE_ZERO,
    }
    return table


class WindowDisplay:
    """One pygame window the size of the canvas (times `scale` for small panels on big screens).
    Events are pumped whenever a frame is shown or input is polled, so the window never hangs."""

    name = "window"

    def __init__(self, layout: Layout, scale: int = 1, title: str = "QR terminal"):
        self.layout, self.scale = layout, scale
        pygame = self._pg = _pygame()
        try:
            pygame.display.init()
            width, height = layout.canvas
            self._screen = pygame.display.set_mode((width * scale, height * scale))
        except pygame.error as error:
            pygame.display.quit()
            raise DeviceUnavailable(
                f"display window: cannot open a window ({error}); without a desktop (Pi OS "
                "Lite) use display.backend = 'framebuffer', or 'headless' for tests"
            ) from None
        pygame.display.set_caption(title)
        self._keys = key_table(pygame)
        # Bounded: with another input in use nobody drains the window's keys.
        self._pending: deque[Key] = deque(maxlen=64)
        self.other_keys: deque[str] = deque(maxlen=64)
        self.targets: tuple[TouchTarget, ...] = ()
        self.closed_by_user = False
        self._last: bytes | None = None

    def show(self, image: Image.Image) -> bool:
        self.pump()
        if image.size != self.layout.canvas:
            raise ValueError(f"frame is {image.size}, the window's canvas is {self.layout.canvas}")
        data = image.convert("RGB").tobytes()
        if data == self._last:
            return False
        pygame = self._pg
        surface = pygame.image.frombuffer(data, image.size, "RGB")
        if self.scale != 1:
            surface = pygame.transform.scale_by(surface, self.scale)
        self._screen.blit(surface, (0, 0))
        pygame.display.flip()
        self._last = data
        return True

    def pump(self, wait_ms: int = 0) -> None:
        """Moves the window's pending keys and clicks into this window's key queue; with
        `wait_ms`, first waits that long at most for one event to arrive."""
        pygame = self._pg
        first = [pygame.event.wait(wait_ms)] if wait_ms > 0 else []
        for event in first + pygame.event.get():
            if event.type == pygame.QUIT:
                self.closed_by_user = True
            elif event.type == pygame.KEYDOWN and event.key in self._keys:
                self._pending.append(self._keys[event.key])
            elif event.type == pygame.KEYDOWN:
                # Keys that are not terminal keys (letters): the laptop demo's customer keys.
                self.other_keys.append(pygame.key.name(event.key))
            elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                x, y = event.pos[0] // self.scale, event.pos[1] // self.scale
                key = hit(self.targets, x, y)
                if key is not None:
                    self._pending.append(key)

    def take_keys(self, now: float, wait_ms: int = 0) -> list[KeyEvent]:
        self.pump(wait_ms)
        events = [KeyEvent(key, now, "window") for key in self._pending]
        self._pending.clear()
        return events

    @property
    def key_count(self) -> int:
        return len(self._keys)

    def check(self) -> DeviceCheck:
        pygame = self._pg
        return DeviceCheck(
            "display",
            self.name,
            pygame.display.get_driver(),
            {
                "size": "{}×{}".format(*self.layout.canvas),
                "scale": str(self.scale),
                "pygame": pygame.version.ver,
                "SDL": ".".join(map(str, pygame.get_sdl_version())),
            },
        )

    def close(self) -> None:
        self._pg.display.quit()


class WindowInput:
    """The window's keyboard and mouse as a key input: clicks land on the current screen's keys."""

    name = "window"

    def __init__(self, window: WindowDisplay):
        self.window = window

    def set_targets(self, targets: tuple[TouchTarget, ...]) -> None:
        self.window.targets = tuple(targets)

    def events(self, now: float) -> list[KeyEvent]:
        return self.window.take_keys(now)

    def wait_events(self, now: float, timeout_ms: int) -> list[KeyEvent]:
        """Like events(), but waits up to `timeout_ms` for the window to report something."""
        return self.window.take_keys(now, timeout_ms)

    def check(self) -> DeviceCheck:
        return DeviceCheck("input", self.name, "window", {"keys": str(self.window.key_count)})

    def close(self) -> None:
        """The window belongs to the display; closing input leaves it open."""
