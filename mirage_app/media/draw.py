"""Pictures and stickers drawn offline with Pillow, the same drawing for the same seed.

Pictures are the kind of photo a person sends a friend (a sunset, a coffee, a plant, the cat, lunch), as simple
flat illustrations, 1080×1080 JPEG. Stickers are 512×512 WebP with transparency and the white outline WhatsApp
stickers have: faces with an expression, a heart, a thumbs-up, a speech bubble saying "kkk" or "bom dia".
Variety comes from the drawing itself (subject, colours, layout): nothing is added to make files differ.
Shapes are drawn at twice the size and averaged down (`Image.reduce`, 2×2 pixels into one), for smooth edges: as
smooth as a Lanczos resize at this ratio, in a tenth of the time a worker spends on it.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter

from mirage_app.media.sniff import sticker_webp
from mirage_app.media.stickers import STICKERS

PICTURE_SIDE = 1080
STICKER_SIDE = 512
SCALE = 2
RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Drawing:
    data: bytes
    mime: str
    width: int
    height: int
    subject: str  # what it shows: "sunset", "coffee"… or the sticker's "face:laugh", "bubble:kkk"


def _rng(seed: int | str) -> random.Random:
    return random.Random(f"mirage-draw:{seed}")


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


def _jitter(rng: random.Random, color: RGB, spread: int = 18) -> RGB:
    return tuple(max(0, min(255, c + rng.randint(-spread, spread))) for c in color)  # type: ignore[return-value]


def _gradient(size: int, top: RGB, bottom: RGB, height: int | None = None) -> Image.Image:
    """A vertical gradient `size` wide, `height` tall (square by default)."""
    height = height or size
    column = Image.new("RGB", (1, height))
    column.putdata([_mix(top, bottom, y / max(1, height - 1)) for y in range(height)])
    return column.resize((size, height))


def _wave(rng: random.Random, width: int, base: float, amp: float) -> list[tuple[float, float]]:
    """The top edge of a hill range: a sum of two gentle sines."""
    f1, f2 = rng.uniform(0.6, 1.6), rng.uniform(2.0, 3.5)
    p1, p2 = rng.uniform(0, math.tau), rng.uniform(0, math.tau)
    return [
        (
            x,
            base
            - amp * (0.7 * math.sin(f1 * math.tau * x / width + p1) + 0.3 * math.sin(f2 * math.tau * x / width + p2)),
        )
        for x in range(0, width + 1, width // 60)
    ]


# -- pictures ------------------------------------------------------------------------------------------------------

SKIES = [
    ((255, 94, 77), (255, 200, 120)),
    ((72, 52, 140), (250, 128, 114)),
    ((30, 60, 114), (255, 170, 90)),
    ((120, 180, 240), (220, 240, 255)),
    ((250, 120, 160), (255, 220, 170)),
]


def _sunset(img: Image.Image, d: ImageDraw.ImageDraw, rng: random.Random) -> None:
    s = img.width
    top, bottom = rng.choice(SKIES)
    img.paste(_gradient(s, _jitter(rng, top), _jitter(rng, bottom)))
    sun_x, sun_y, r = rng.uniform(0.2, 0.8) * s, rng.uniform(0.35, 0.55) * s, rng.uniform(0.07, 0.12) * s
    d.ellipse((sun_x - r, sun_y - r, sun_x + r, sun_y + r), fill=_jitter(rng, (255, 230, 150), 10))
    hill = rng.choice([(46, 94, 60), (60, 50, 90), (35, 70, 80), (90, 60, 50)])
    for layer in range(3):
        base = s * (0.6 + 0.12 * layer)
        color = _mix(hill, (15, 20, 30), layer * 0.3)
        d.polygon([*_wave(rng, s, base, s * 0.05), (s, s), (0, s)], fill=color)
    for _ in range(rng.randint(0, 4)):  # birds
        bx, by, w = rng.uniform(0.1, 0.9) * s, rng.uniform(0.1, 0.35) * s, rng.uniform(0.015, 0.03) * s
        d.line([(bx - w, by - w / 2), (bx, by), (bx + w, by - w / 2)], fill=(40, 30, 50), width=max(2, s // 300))


def _table(img: Image.Image, d: ImageDraw.ImageDraw, rng: random.Random, horizon: float) -> None:
    s = img.width
    wall = rng.choice([(236, 226, 208), (210, 228, 232), (240, 214, 200), (222, 232, 214)])
    img.paste(_gradient(s, _jitter(rng, wall, 10), _mix(wall, (120, 110, 100), 0.25), int(s * horizon)))
    wood = _jitter(rng, rng.choice([(150, 100, 60), (180, 130, 80), (110, 75, 50)]))
    d.rectangle((0, s * horizon, s, s), fill=wood)
    for i in range(1, 6):  # planks
        y = s * horizon + i * s * (1 - horizon) / 6
        d.line([(0, y), (s, y)], fill=_mix(wood, (0, 0, 0), 0.2), width=max(2, s // 400))


def _coffee(img: Image.Image, d: ImageDraw.ImageDraw, rng: random.Random) -> None:
    s = img.width
    _table(img, d, rng, rng.uniform(0.55, 0.65))
    cx, base = rng.uniform(0.35, 0.65) * s, s * 0.78
    w, h = s * rng.uniform(0.22, 0.3), s * rng.uniform(0.24, 0.32)
    d.ellipse((cx - w, base - s * 0.05, cx + w, base + s * 0.07), fill=(245, 245, 240))  # saucer
    mug = _jitter(rng, rng.choice([(200, 60, 60), (60, 110, 180), (240, 240, 235), (70, 150, 110), (240, 190, 60)]))
    d.ellipse((cx + w * 0.45, base - h * 0.85, cx + w * 0.95, base - h * 0.25), outline=mug, width=int(s * 0.03))
    d.rounded_rectangle((cx - w * 0.6, base - h, cx + w * 0.6, base), radius=s * 0.04, fill=mug)
    d.ellipse((cx - w * 0.6, base - h - s * 0.03, cx + w * 0.6, base - h + s * 0.03), fill=(90, 55, 35))
    for i in range(rng.randint(2, 3)):  # steam
        x0 = cx - w * 0.3 + i * w * 0.3
        pts = [(x0 + math.sin(t / 3) * s * 0.02, base - h - s * 0.05 - t * s * 0.012) for t in range(12)]
        d.line(pts, fill=(255, 255, 255), width=max(3, s // 180), joint="curve")


def _plant(img: Image.Image, d: ImageDraw.ImageDraw, rng: random.Random) -> None:
    s = img.width
    _table(img, d, rng, 0.7)
    cx, top = rng.uniform(0.4, 0.6) * s, s * 0.62
    pot = _jitter(rng, rng.choice([(200, 110, 70), (230, 230, 225), (70, 90, 120), (220, 170, 60)]))
    green = _jitter(rng, rng.choice([(60, 140, 70), (40, 110, 60), (90, 160, 80)]))
    for _ in range(rng.randint(7, 12)):
        angle = rng.uniform(-2.5, -0.6)
        length = rng.uniform(0.18, 0.33) * s
        tip = (cx + math.cos(angle) * length, top + math.sin(angle) * length)
        side = (-math.sin(angle) * length * 0.18, math.cos(angle) * length * 0.18)
        mid = (cx + math.cos(angle) * length * 0.5, top + math.sin(angle) * length * 0.5)
        leaf = [(cx, top), (mid[0] + side[0], mid[1] + side[1]), tip, (mid[0] - side[0], mid[1] - side[1])]
        d.polygon(leaf, fill=_jitter(rng, green, 20))
    w = s * rng.uniform(0.12, 0.16)
    d.polygon([(cx - w, top), (cx + w, top), (cx + w * 0.75, s * 0.85), (cx - w * 0.75, s * 0.85)], fill=pot)
    d.rectangle((cx - w * 1.05, top - s * 0.02, cx + w * 1.05, top + s * 0.03), fill=_mix(pot, (0, 0, 0), 0.15))


def _pet(img: Image.Image, d: ImageDraw.ImageDraw, rng: random.Random) -> None:
    s = img.width
    evening = rng.random() < 0.5
    sky = ((30, 40, 80), (90, 90, 150)) if evening else ((150, 200, 240), (240, 220, 200))
    img.paste(_gradient(s, *sky))
    if evening:
        mx, my, r = rng.uniform(0.2, 0.8) * s, s * 0.2, s * 0.07
        d.ellipse((mx - r, my - r, mx + r, my + r), fill=(245, 240, 210))
    d.rectangle((0, s * 0.72, s, s), fill=_jitter(rng, (120, 90, 70) if evening else (190, 150, 110)))
    fur = rng.choice([(30, 30, 35), (200, 120, 50), (120, 120, 125), (240, 235, 225), (90, 60, 40)])
    cx, ground = rng.uniform(0.35, 0.65) * s, s * 0.8
    d.ellipse((cx - s * 0.17, ground - s * 0.26, cx + s * 0.17, ground), fill=fur)  # body
    hx, hy, hr = cx + rng.choice([-1, 1]) * s * 0.08, ground - s * 0.3, s * 0.1
    d.ellipse((hx - hr, hy - hr, hx + hr, hy + hr), fill=fur)
    for side in (-1, 1):  # ears
        d.polygon(
            [
                (hx + side * hr * 0.9, hy - hr * 0.2),
                (hx + side * hr * 0.75, hy - hr * 1.45),
                (hx + side * hr * 0.15, hy - hr * 0.85),
            ],
            fill=fur,
        )
    tail = [(cx + s * 0.15 + t * s * 0.012, ground - s * 0.05 - math.sin(t / 4) * s * 0.1) for t in range(16)]
    d.line(tail, fill=fur, width=int(s * 0.035), joint="curve")
    eye = (240, 220, 90) if fur == (30, 30, 35) else (40, 40, 40)
    for side in (-1, 1):
        d.ellipse(
            (hx + side * hr * 0.4 - s * 0.012, hy - s * 0.012, hx + side * hr * 0.4 + s * 0.012, hy + s * 0.012),
            fill=eye,
        )


def _lunch(img: Image.Image, d: ImageDraw.ImageDraw, rng: random.Random) -> None:
    s = img.width
    cloth = _jitter(rng, rng.choice([(200, 60, 60), (60, 120, 180), (230, 200, 120), (90, 150, 100)]))
    img.paste(Image.new("RGB", (s, s), cloth))
    step = s // rng.choice([6, 8, 10])
    for i in range(0, s, step * 2):  # checked tablecloth
        d.rectangle((i, 0, i + step, s), fill=_mix(cloth, (255, 255, 255), 0.35))
    cx, cy, r = s * 0.5, s * 0.5, s * rng.uniform(0.36, 0.42)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(250, 250, 248), outline=(210, 210, 205), width=s // 120)
    foods = [
        ((245, 240, 225), 0.34),
        ((90, 50, 30), 0.26),
        ((80, 160, 70), 0.24),
        ((170, 90, 50), 0.24),
        ((240, 170, 60), 0.2),
    ]
    rng.shuffle(foods)
    for i, (color, size) in enumerate(foods[:4]):
        angle = i * math.tau / 4 + rng.uniform(-0.3, 0.3)
        fx, fy, fr = cx + math.cos(angle) * r * 0.45, cy + math.sin(angle) * r * 0.45, r * size
        d.ellipse((fx - fr, fy - fr * 0.8, fx + fr, fy + fr * 0.8), fill=_jitter(rng, color, 12))
    fork = (190, 190, 195)
    d.rounded_rectangle((cx + r * 1.08, cy - r * 0.8, cx + r * 1.16, cy + r * 0.9), radius=s // 100, fill=fork)


SCENES: dict[str, Callable[[Image.Image, ImageDraw.ImageDraw, random.Random], None]] = {
    "sunset": _sunset,
    "coffee": _coffee,
    "plant": _plant,
    "pet": _pet,
    "lunch": _lunch,
}


def draw_picture(seed: int | str, subject: str | None = None) -> Drawing:
    """A 1080×1080 JPEG of `subject` (one of SCENES; chosen from the seed when None)."""
    rng = _rng(seed)
    subject = subject or rng.choice(sorted(SCENES))
    big = Image.new("RGB", (PICTURE_SIDE * SCALE, PICTURE_SIDE * SCALE))
    SCENES[subject](big, ImageDraw.Draw(big), rng)
    img = big.reduce(SCALE)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=88, optimize=True)
    return Drawing(out.getvalue(), "image/jpeg", PICTURE_SIDE, PICTURE_SIDE, subject)


# -- stickers ------------------------------------------------------------------------------------------------------


def _outlined(layer: Image.Image, width: int) -> Image.Image:
    """The white border of a die-cut sticker around whatever `layer` holds."""
    # A blur then a low threshold grows the shape by about `width` (a large MaxFilter would take seconds).
    alpha = layer.getchannel("A").filter(ImageFilter.GaussianBlur(width / 2)).point(lambda a: 255 if a > 6 else a * 40)
    border = Image.new("RGBA", layer.size, (255, 255, 255, 0))
    border.putalpha(alpha)
    return Image.alpha_composite(border, layer)


def draw_sticker(seed: int | str, subject: str | None = None) -> Drawing:
    """A 512×512 WebP with transparency; `subject` is one of stickers.STICKERS' keys, else chosen from the seed."""
    rng = _rng(seed)
    subject = subject or rng.choice(sorted(STICKERS))
    side = STICKER_SIDE * SCALE
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    detail = STICKERS[subject](layer, ImageDraw.Draw(layer), rng)
    img = _outlined(layer, side // 40).reduce(SCALE)
    # Stuck on a little askew, as hand-made stickers are: one more way two drawings of a subject differ. Turned at
    # the final size, a quarter of the pixels.
    img = img.rotate(rng.uniform(-10, 10), resample=Image.Resampling.BILINEAR)
    return Drawing(sticker_webp(img), "image/webp", STICKER_SIDE, STICKER_SIDE, f"{subject}:{detail}")
