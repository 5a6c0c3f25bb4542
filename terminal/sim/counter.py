"""Independent simulated counter frames: a phone screen showing our own tokens, seen by a cheap
camera, through degradations drawn from terminal/sim/degrade.py.

A take is every parameter of one frame, drawn from (category, seed) alone, so a frame is
reproducible from its name. The screen is modelled as light (it can be brighter than the room
and clip), the bezel and a finger as surfaces lit by the room; the camera adds its lens, shutter,
exposure, white balance, noise, tone curve, sharpening and MJPEG.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from terminal.sim import degrade
from terminal.sim.scene import _background
from terminal.ui.codeimage import code128_modules, qr_modules

CATEGORIES = (
    "hand_motion",
    "defocus",
    "rolling_shutter",
    "screen_clipping",
    "refresh_banding",
    "pixel_grid",
    "mjpeg",
    "exposure_wb",
    "finger",
    "distance",
    "pose",
    "low_light",
    "mixed",
)
SIZE = (480, 640)  # height, width: what the terminal's camera delivers


@dataclass(frozen=True)
class Take:
    """Everything about one frame. Lengths are frame pixels unless said otherwise."""

    text: str | None
    symbology: str = "QRCode"
    screen: str = "code"  # code, home (app icons), wallet (a wallet's screen without a code)
    phone: bool = True
    module_px: float = 3.0  # one code module's width in the frame
    centre: tuple[float, float] = (320.0, 240.0)
    rotation_deg: float = 0.0
    tilt: tuple[float, float] = (0.0, 0.0)
    screen_gain: float = 1.0  # screen white against the room's white (> 1.1 clips)
    black_leak: float = 0.03  # a screen's black as a share of its white (backlight leak)
    glass: float = 0.06  # the room reflected in the glass, as a share of the room's light
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)  # screen white in BGR (night mode)
    ambient: float = 1.0
    screen_px_per_module: int = 0  # 0: no pixel grid drawn
    grid_fill: float = 0.7
    grid_stripes: bool = True
    bands: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # period, duty, depth, phase
    motion_px: float = 0.0
    shake: float = 0.1
    defocus_px: float = 0.0
    shutter: tuple[float, float, float, float, float] = (0.0, 0.0, 0.0, 100.0, 0.0)
    finger: float = 0.0  # share of the code's area a finger covers
    finger_shift: float = 0.0  # the finger's slide along the code's side (share of the side)
    barrel: float = 0.0
    optics_sigma: float = 0.45
    exposure: float = 1.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    gamma: float = 1.0
    bloom: tuple[float, float] = (3.0, 0.4)  # sigma, strength
    read_noise: float = 2.0
    shot_noise: float = 0.05
    sharpen: float = 0.0
    jpeg_quality: int = 0


def draw_take(category: str, text: str | None, symbology: str, seed: int) -> Take:
    """The parameters of one frame of `category`, drawn from `seed` alone."""
    rng = np.random.default_rng(seed)
    qr = symbology == "QRCode"
    take = Take(
        text=text,
        symbology=symbology,
        module_px=rng.uniform(2.4, 4.6) if qr else rng.uniform(1.5, 2.5),
        rotation_deg=rng.uniform(-15, 15),
        tilt=(rng.uniform(0, 0.12), rng.uniform(0, 0.12)),
        centre=(320 + rng.uniform(-60, 60), 240 + rng.uniform(-40, 40)),
        screen_gain=rng.uniform(0.75, 1.1),
        black_leak=rng.uniform(0.01, 0.05),
        glass=rng.uniform(0.02, 0.1),
        ambient=rng.uniform(0.8, 1.15),
        optics_sigma=rng.uniform(0.3, 0.6),
        white_balance=tuple(rng.uniform(0.93, 1.07, 3)),
        read_noise=rng.uniform(1.0, 2.5),
        shot_noise=rng.uniform(0.01, 0.06),
        sharpen=rng.uniform(0, 0.4),
        jpeg_quality=int(rng.integers(70, 93)) if rng.random() < 0.6 else 0,
    )
    if category == "mixed":  # a real counter: two things wrong at once, each a little less
        first, second = rng.choice(len(CATEGORIES) - 1, 2, replace=False)
        for index in (first, second):
            take = _degrade(take, CATEGORIES[index], rng, 0.7)
        return take
    return _degrade(take, category, rng, 1.0)


def _degrade(take: Take, category: str, rng: np.random.Generator, strength: float) -> Take:
    s = strength
    qr = take.symbology == "QRCode"
    if category == "hand_motion":
        return replace(take, motion_px=s * rng.uniform(5, 20), shake=rng.uniform(0.03, 0.35))
    if category == "defocus":
        return replace(take, defocus_px=s * rng.uniform(1.2, 3.4))
    if category == "rolling_shutter":
        # A hand moving sideways at up to ~2 frame widths a second during a 20–33 ms readout
        # shears the phone by up to ~70 px; its 8–12 Hz tremor turns only a fraction of a cycle
        # over one readout, so it bends the phone gently (a period of 1000–2500 rows), not in
        # ripples (vibration from motors does that, not hands).
        return replace(
            take,
            shutter=(
                s * rng.choice([-1, 1]) * rng.uniform(15, 70),
                s * rng.uniform(-0.12, 0.12),
                s * rng.uniform(2, 10),
                rng.uniform(1000, 2500),
                rng.uniform(0, 2 * np.pi),
            ),
            motion_px=rng.uniform(1, 4),
        )
    if category == "screen_clipping":
        # Brighter than the room by up to 2.4×: past that, auto exposure (metering the whole
        # frame, phone included) would have turned the gain down.
        return replace(
            take,
            screen_gain=1 + s * rng.uniform(0.3, 1.4),
            black_leak=s * rng.uniform(0.04, 0.12),
            glass=rng.uniform(0.05, 0.2) * s,
            bloom=(rng.uniform(1.5, 4), rng.uniform(0.15, 0.5) * s),
        )
    if category == "refresh_banding":
        return replace(
            take,
            bands=(
                rng.uniform(14, 120),
                rng.uniform(0.3, 0.8),
                s * rng.uniform(0.3, 0.75),
                rng.random(),
            ),
        )
    if category == "pixel_grid":
        return replace(
            take,
            screen_px_per_module=int(rng.choice([3, 4, 5, 6, 8])),
            module_px=take.module_px * rng.uniform(1.0, 1.5),
            grid_fill=rng.uniform(0.35, 0.85),
            grid_stripes=bool(rng.integers(0, 2)),
        )
    if category == "mjpeg":
        return replace(
            take, jpeg_quality=int(rng.integers(20, 56)), sharpen=s * rng.uniform(0.5, 1.5)
        )
    if category == "exposure_wb":
        return replace(
            take,
            exposure=float(np.exp(s * rng.uniform(np.log(0.4), np.log(2.0)))),
            white_balance=tuple(np.exp(s * rng.uniform(-0.4, 0.4, 3))),
            gamma=float(np.exp(s * rng.uniform(-0.35, 0.35))),
            tint=(rng.uniform(0.5, 0.9), rng.uniform(0.8, 0.95), 1.0)
            if rng.random() < 0.5
            else (1.0, 1.0, 1.0),
        )
    if category == "finger":
        return replace(take, finger=s * rng.uniform(0.03, 0.1))
    if category == "distance":
        return replace(take, module_px=rng.uniform(1.4, 2.3) if qr else rng.uniform(0.95, 1.45))
    if category == "pose":
        return replace(
            take,
            rotation_deg=rng.uniform(-180, 180),
            tilt=(s * rng.uniform(0.15, 0.45), s * rng.uniform(0.15, 0.45)),
            barrel=-s * rng.uniform(0.05, 0.3),
        )
    if category == "low_light":
        return replace(
            take,
            ambient=rng.uniform(0.12, 0.35),
            screen_gain=rng.uniform(0.18, 0.4),
            exposure=rng.uniform(1.0, 1.6),
            read_noise=s * rng.uniform(4, 10),
            shot_noise=s * rng.uniform(0.2, 0.8),
        )
    raise ValueError(f"unknown degradation category {category!r}; known: {CATEGORIES}")


def empty_take(seed: int) -> Take:
    """A frame with no code: nobody, a phone's home screen, or a wallet screen without a code,
    through any one category's degradations."""
    rng = np.random.default_rng(seed)
    category = CATEGORIES[int(rng.integers(0, len(CATEGORIES)))]
    take = draw_take(category, None, "QRCode" if rng.random() < 0.6 else "Code128", seed + 1)
    kind = rng.choice(["nobody", "home", "wallet"])
    return replace(take, phone=kind != "nobody", screen=str(kind))


# -- rendering ----------------------------------------------------------------------------------


def _modules(take: Take) -> np.ndarray:
    if take.symbology == "QRCode":
        return qr_modules(take.text, "M")
    return code128_modules(take.text)[None, :]


def _screen_content(take: Take, rng: np.random.Generator, spm: int) -> tuple[np.ndarray, int]:
    """The screen in screen pixels (BGR, 0..1 of the screen's white) and its code's left edge
    offset; what a wallet app shows: a header bar, the code on white, a line of text."""
    qr = take.symbology == "QRCode"
    if take.screen == "code":
        modules = _modules(take)
        if not qr:  # a barcode is drawn about a third as tall as it is wide
            modules = np.repeat(modules, max(1, modules.shape[1] // 3), axis=0)
        quiet = 4 if qr else 10
    else:
        modules = np.zeros((41, 41) if qr else (55, 167), bool)
        quiet = 4 if qr else 10
    code = np.where(modules, 0.0, 1.0).astype(np.float32)
    code = np.repeat(np.repeat(code, spm, axis=0), spm, axis=1)
    width = code.shape[1] + 2 * quiet * spm
    height = int(max(code.shape[0] + 2 * quiet * spm, width * (1.55 if qr else 0.6)))
    screen = np.ones((height, width, 3), np.float32)
    header = max(2, height // 10)
    screen[:header] = rng.uniform(0.2, 0.9, 3)
    top = (height - code.shape[0]) // 2
    left = quiet * spm
    if take.screen == "code":
        screen[top : top + code.shape[0], left : left + code.shape[1]] = code[:, :, None]
    elif take.screen == "home":  # app icons: the most code-like thing a phone shows
        icon = width // 5
        for row in range(header + icon // 3, height - icon, icon + icon // 3):
            for col in range(icon // 4, width - icon, icon + icon // 4):
                cv2.rectangle(
                    screen,
                    (col, row),
                    (col + icon - 1, row + icon - 1),
                    tuple(float(v) for v in rng.uniform(0, 1, 3)),
                    -1,
                )
    scale = max(0.3, width / 500)
    ink = np.zeros((height, width), np.uint8)  # OpenCV draws text on 8-bit images only
    for line in range(2):  # the amount and the shop, in text
        y = min(height - 4, top + code.shape[0] + int((line + 1) * 28 * scale) + quiet * spm // 2)
        words = "".join(rng.choice(list("0123456789 WON"), 10))
        cv2.putText(ink, words, (left, y), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, 2)
    screen *= 1 - (ink.astype(np.float32) * (0.8 / 255))[:, :, None]
    return screen, left


def _finger(face: np.ndarray, emissive: np.ndarray, take: Take, rng, box) -> None:
    """A fingertip over one side of the code covering about `take.finger` of its area."""
    (x0, y0, x1, y1) = box
    code_w, code_h = x1 - x0, y1 - y0
    thick = np.sqrt(take.finger * code_w * code_h / 0.9)  # a capsule about as deep as thick
    side = int(rng.integers(0, 4))  # the finger comes in from the left, right, top or bottom
    along = float(np.clip(rng.uniform(0.1, 0.9) + take.finger_shift, 0.0, 1.0))
    depth = thick * 0.9
    dx, dy = ((1, 0), (-1, 0), (0, 1), (0, -1))[side]
    if dx:
        edge = (x0 if dx > 0 else x1, y0 + along * code_h)
    else:
        edge = (x0 + along * code_w, y0 if dy > 0 else y1)
    start = (edge[0] - dx * 4 * thick, edge[1] - dy * 4 * thick)  # the rest of the finger
    end = (edge[0] + dx * depth, edge[1] + dy * depth)  # its tip, inside the code
    skin = rng.uniform([0.45, 0.55, 0.7], [0.65, 0.75, 0.9])
    mask = np.zeros(face.shape[:2], np.uint8)
    p0 = tuple(int(v) for v in start)
    p1 = tuple(int(v) for v in end)
    cv2.line(mask, p0, p1, 255, max(1, int(thick)))
    cv2.circle(mask, p1, max(1, int(thick / 2)), 255, -1)
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255, (0, 0), max(1.0, thick * 0.06))
    face *= (1 - soft)[:, :, None]
    face += soft[:, :, None] * skin.astype(np.float32)
    emissive *= 1 - soft


def _phone_layer(take: Take, rng: np.random.Generator):
    """The phone as (radiance BGR, coverage) at frame size, before the camera's own effects."""
    height, width = SIZE
    grid = take.screen_px_per_module > 0
    # Face pixels per module: about one per pixel of the 2× warp below, whose 2:1 area
    # reduction then smooths edges as a lens and sensor do (with a pixel grid: 4 face pixels per
    # screen pixel, to hold the grid's structure).
    spm = take.screen_px_per_module if grid else max(3, int(np.ceil(take.module_px * 2)) + 1)
    screen, left = _screen_content(take, rng, spm)
    oversample = 4 if grid else 1
    if grid:
        screen = degrade.pixel_grid(screen, oversample, take.grid_fill, take.grid_stripes)
    unit = spm * oversample  # face pixels per module
    bezel = max(4, screen.shape[1] // 16)
    face = np.full((screen.shape[0] + 2 * bezel, screen.shape[1] + 2 * bezel, 3), 0.08, np.float32)
    face[bezel:-bezel, bezel:-bezel] = screen
    emissive = np.zeros(face.shape[:2], np.float32)
    emissive[bezel:-bezel, bezel:-bezel] = 1
    if take.finger and take.screen == "code":
        modules = _modules(take)
        code_h = modules.shape[0] if take.symbology == "QRCode" else max(1, modules.shape[1] // 3)
        x0 = bezel + left * oversample
        code_w = modules.shape[1] * unit
        y0 = bezel + (screen.shape[0] - code_h * unit) // 2
        _finger(face, emissive, take, rng, (x0, y0, x0 + code_w, y0 + code_h * unit))
    # Geometry: the face at module_px per module, rotated, foreshortened, at 2× frame size.
    factor = 2 * take.module_px / unit
    h, w = face.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    half = np.float32([[-w, -h], [w, -h], [w, h], [-w, h]]) * 0.5 * factor
    tx, ty = take.tilt
    side, end = np.sign(half[:, 0]), np.sign(half[:, 1])
    half[:, 1] *= 1 - tx * side * 0.5
    half[:, 0] *= 1 + ty * end * 0.5
    angle = np.deg2rad(take.rotation_deg)
    turn = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    target = half @ turn.T + 2 * np.float32(take.centre)
    matrix = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
    big = (2 * width, 2 * height)
    light = face * np.float32(take.tint)
    # Radiance: the screen emits (its gain can exceed the room's white), the bezel and a finger
    # reflect the room, the glass reflects a little of it everywhere.
    white = 235.0
    screen_light = take.screen_gain * white * (take.black_leak + (1 - take.black_leak) * light)
    room_light = take.ambient * white * face
    radiance = emissive[:, :, None] * screen_light + (1 - emissive[:, :, None]) * room_light
    radiance += take.glass * take.ambient * white
    layer = cv2.warpPerspective(radiance, matrix, big, flags=cv2.INTER_LINEAR)
    lit = cv2.warpPerspective(emissive, matrix, big, flags=cv2.INTER_LINEAR)
    cover = cv2.warpPerspective(np.ones((h, w), np.float32), matrix, big, flags=cv2.INTER_LINEAR)
    layer = cv2.resize(layer, (width, height), interpolation=cv2.INTER_AREA)
    lit = cv2.resize(lit, (width, height), interpolation=cv2.INTER_AREA)
    cover = cv2.resize(cover, (width, height), interpolation=cv2.INTER_AREA)
    period, duty, depth, phase = take.bands
    if depth:  # the backlight's PWM, read row by row: only what the screen emits is dimmed
        rows = degrade.refresh_bands(height, period, duty, depth, phase)[:, :, 0]
        layer = layer * (1 - lit[:, :, None] * (1 - rows[:, :, None]))
    return layer, cover  # the warp of a black-bordered face is already premultiplied


def render_take(take: Take, seed: int, scene_seed: int | None = None) -> np.ndarray:
    """One greyscale frame (uint8, 480 × 640) of `take`, deterministic for `seed`.

    With `scene_seed`, the counter, the screen's content and where the finger rests come from
    it instead (frames of one hold share them; blur paths and noise still come from `seed`)."""
    rng = np.random.default_rng(seed)
    scene = rng if scene_seed is None else np.random.default_rng(scene_seed)
    room = _background(scene, SIZE).astype(np.float32)
    colour = np.float32(scene.uniform(0.8, 1.2, 3))
    image = room[:, :, None] * colour * take.ambient
    if take.phone:
        premultiplied, cover = _phone_layer(take, scene)
        skew, stretch, wobble, period, phase = take.shutter
        if skew or stretch or wobble:
            map_x, map_y = degrade.rolling_shutter_maps(SIZE, skew, stretch, wobble, period, phase)
            premultiplied = cv2.remap(premultiplied, map_x, map_y, cv2.INTER_LINEAR)
            cover = cv2.remap(cover, map_x, map_y, cv2.INTER_LINEAR)
        kernels = []
        if take.motion_px > 1:
            kernels.append(degrade.hand_path_kernel(rng, take.motion_px, take.shake))
        if take.defocus_px:
            kernels.append(degrade.defocus_kernel(take.defocus_px))
        for kernel in kernels:  # the phone moves, the counter does not: blur the layer only
            premultiplied = cv2.filter2D(premultiplied, -1, kernel, borderType=cv2.BORDER_CONSTANT)
            cover = cv2.filter2D(cover, -1, kernel, borderType=cv2.BORDER_CONSTANT)
        image = image * (1 - cover[:, :, None]) + premultiplied
    if take.barrel:
        image = cv2.remap(image, *degrade.barrel_maps(SIZE, take.barrel), cv2.INTER_LINEAR)
    image = cv2.GaussianBlur(image, (0, 0), take.optics_sigma)
    image = image * take.exposure * np.float32(take.white_balance)
    image = degrade.bloom(image, *take.bloom)
    image = degrade.sensor_noise(rng, image, take.read_noise, take.shot_noise)
    return degrade.camera_output(image, take.gamma, take.sharpen, take.jpeg_quality)


# -- holds: consecutive frames of one customer holding a phone up --------------------------------


def hold_takes(first: Take, frames: int, seed: int) -> list[Take]:
    """`frames` consecutive takes (10 fps) of a hand holding up the phone of `first`.

    The hand's own model, drawn from `seed` alone: it arrives with some speed and settles with
    momentum, its tremor jitters position, angle and distance; its speed adds a smear to the
    frame's own blur, whose path is drawn afresh each frame; a finger slides and presses
    harder or lighter; auto-exposure hunts, and the screen's PWM is read at a new phase.
    """
    rng = np.random.default_rng(seed)
    velocity = rng.normal(0, 12, 2)  # px per frame: the hand still arriving
    position = np.array(first.centre) - velocity * rng.uniform(0, 2)
    angle, scale, shift = first.rotation_deg, 1.0, 0.0
    takes = []
    for _ in range(frames):
        velocity = 0.6 * velocity + rng.normal(0, 3.5, 2)  # settles; the tremor keeps it alive
        position = np.clip(position + velocity, (150, 120), (490, 360))
        angle += rng.normal(0, 1.2)
        scale = float(np.clip(scale * np.exp(rng.normal(0, 0.03)), 0.8, 1.25))
        shift = float(np.clip(shift + rng.normal(0, 0.06), -0.3, 0.3))
        speed = float(np.hypot(*velocity))
        period, duty, depth, _ = first.bands
        takes.append(
            replace(
                first,
                centre=(float(position[0]), float(position[1])),
                rotation_deg=float(angle),
                module_px=first.module_px * scale,
                # A 1/30 s exposure out of 1/10 s between frames sees a third of the travel.
                motion_px=first.motion_px * float(np.exp(rng.normal(0, 0.35))) + speed / 3,
                shake=first.shake,
                finger=first.finger * float(np.exp(rng.normal(0, 0.25))) if first.finger else 0.0,
                finger_shift=shift,
                exposure=first.exposure * float(np.exp(rng.normal(0, 0.04))),
                defocus_px=max(0.0, first.defocus_px + rng.normal(0, 0.25))
                if first.defocus_px
                else 0.0,
                bands=(period, duty, depth, float(rng.random())),
            )
        )
    return takes
