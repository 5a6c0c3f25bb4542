"""The frame around every screen: the status bar on top (brand, online/offline, queue, clock,
device trouble) and the soft-key bar below, which are also the touch targets of F1–F4."""

from __future__ import annotations

from terminal.core.keys import Key
from terminal.core.session.model import Status
from terminal.hw.layout import TouchTarget
from terminal.ui.paint import Box, Painter

DEVICE_NAMES = {"camera": "카메라", "printer": "프린터", "display": "화면", "input": "키패드"}
SOFT_KEYS = (Key.F1, Key.F2, Key.F3, Key.F4)


def bar_height(height: int) -> int:
    return max(22, height // 10)


def status_items(status: Status, now_ms: int) -> list[tuple[str, str]]:
    """Status bar items, most important first, each with its colour; the bar drops the last
    ones when the panel is too narrow."""
    items: list[tuple[str, str]] = []
    items.append(("● 온라인", "#B9F6CA") if status.online else ("● 오프라인", "#FFD180"))
    if not status.clock_trusted:
        items.append(("시계 확인", "#FFD180"))
    for device, _problem in status.troubles:
        items.append((f"{DEVICE_NAMES.get(device, device)} 점검", "#FF8A80"))
    if status.parked:
        items.append((f"보류 {status.parked}", "#FF8A80"))
    if status.queue_depth:
        age = ""
        if status.oldest_ms is not None and now_ms > status.oldest_ms:
            minutes = (now_ms - status.oldest_ms) // 60_000
            age = f" {minutes}분" if minutes < 120 else f" {minutes // 60}시간"
        items.append((f"미전송 {status.queue_depth}{age}", "#FFFFFF"))
    return items


def draw_status(p: Painter, brand: str, status: Status, now_ms: int) -> int:
    """Draws the status bar; returns its height."""
    height = bar_height(p.height)
    p.rect((0, 0, p.width, height), p.theme.primary)
    pad = max(4, height // 5)
    text_h = height - 2 * pad
    brand_w = p.width * 3 // 10
    p.text(brand, (pad, pad, brand_w, height - pad), text_h, "white")
    items = status_items(status, now_ms)
    while items:
        # Each item in its own box from the right edge, so none can overlap another.
        if _draw_items(p, items, (brand_w + pad, pad, p.width - pad, height - pad), text_h):
            break
        items = items[:-1]
    return height


def _draw_items(p: Painter, items, box: Box, size: int) -> bool:
    from terminal.ui.fonts import font

    left, top, right, bottom = box
    gap = max(6, size // 2)
    for points in range(size, 8, -1):
        face = font(points, p.theme.font_file)
        widths = [int(face.getlength(text)) + 2 for text, _ in items]
        if sum(widths) + gap * (len(widths) - 1) <= right - left:
            x = right
            for (text, colour), width in zip(reversed(items), reversed(widths), strict=True):
                p.text(text, (x - width, top, x, bottom), points, colour, "right", points)
                x -= width + gap
            return True
    return False


def draw_soft_keys(
    p: Painter, labels: tuple[tuple[Key, str], ...], hint: str
) -> tuple[int, tuple[TouchTarget, ...]]:
    """The bottom bar: up to four labelled keys (touch targets too), or a hint line. Returns
    the bar's top edge and the targets."""
    height = bar_height(p.height)
    top = p.height - height
    p.rect((0, top, p.width, p.height), p.theme.band)
    pad = max(3, height // 6)
    targets: list[TouchTarget] = []
    if not labels:
        p.text(
            hint,
            (pad * 2, top + pad, p.width - pad * 2, p.height - pad),
            height // 2,
            p.theme.muted,
            "center",
        )
        return top, ()
    cell = p.width // len(labels)
    for index, (key, label) in enumerate(labels):
        box = (index * cell, top, (index + 1) * cell, p.height)
        p.rect((box[0] + 2, box[1] + 2, box[2] - 2, box[3] - 2), "#FFFFFF")
        name = key.value if key in SOFT_KEYS else ""
        text = f"{name} {label}".strip()
        p.text(
            text,
            (box[0] + pad, top + pad, box[2] - pad, p.height - pad),
            height // 2,
            p.theme.ink,
            "center",
        )
        targets.append(TouchTarget(box, key))
    return top, tuple(targets)


# The on-screen keypad, row by row: the keypad's own layout, with "+" for adding amounts.
KEYPAD = (
    ((Key.D1, "1"), (Key.D2, "2"), (Key.D3, "3"), (Key.CANCEL, "취소")),
    ((Key.D4, "4"), (Key.D5, "5"), (Key.D6, "6"), (Key.CLEAR, "C")),
    ((Key.D7, "7"), (Key.D8, "8"), (Key.D9, "9"), (Key.BACKSPACE, "지움")),
    ((Key.DOUBLE_ZERO, "00"), (Key.D0, "0"), (Key.PLUS, "+"), (Key.ENTER, "확인")),
)


def draw_keypad(p: Painter, box: Box) -> tuple[Box, tuple[TouchTarget, ...]]:
    """A 4×4 keypad on the right half of `box` (the bottom half on a portrait panel); returns
    the box left for the screen and the keys as touch targets."""
    left, top, right, bottom = box
    if p.width > p.height:
        split = left + (right - left) * 45 // 100
        rest, pad_box = (left, top, split, bottom), (split, top, right, bottom)
    else:
        split = top + (bottom - top) * 40 // 100
        rest, pad_box = (left, top, right, split), (left, split, right, bottom)
    x0, y0, x1, y1 = pad_box
    cell_w, cell_h = (x1 - x0) // 4, (y1 - y0) // 4
    size = max(9, min(cell_h * 45 // 100, cell_w * 40 // 100))
    targets = []
    for r, row in enumerate(KEYPAD):
        for c, (key, label) in enumerate(row):
            cell = (x0 + c * cell_w, y0 + r * cell_h, x0 + (c + 1) * cell_w, y0 + (r + 1) * cell_h)
            face = p.theme.primary if key is Key.ENTER else p.theme.band
            p.rect((cell[0] + 2, cell[1] + 2, cell[2] - 2, cell[3] - 2), face)
            ink = "white" if key is Key.ENTER else p.theme.ink
            p.text(label, (cell[0] + 4, cell[1] + 4, cell[2] - 4, cell[3] - 4), size, ink, "center")
            targets.append(TouchTarget(cell, key))
    return rest, tuple(targets)
