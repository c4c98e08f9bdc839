"""The sticker subjects `draw.draw_sticker` draws: each paints a transparent square layer and says which variant it
drew (the expression, the word in the bubble)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFont

YELLOWS = [(255, 204, 51), (255, 214, 90), (250, 190, 40)]
INK = (60, 40, 30, 255)
EXPRESSIONS = ("smile", "laugh", "wink", "love", "surprised", "cool")
WORDS = ("kkk", "kkkkk", "bom dia", "boa noite", "rsrs", "haha", "valeu!", "oii")


def _face(img: Image.Image, d: ImageDraw.ImageDraw, rng: random.Random) -> str:
    s = img.width
    c, r = s / 2, s * 0.4
    d.ellipse((c - r, c - r, c + r, c + r), fill=(*rng.choice(YELLOWS), 255), outline=INK, width=s // 60)
    expression = rng.choice(EXPRESSIONS)
    ex, ey, er = r * 0.38, c - r * 0.2, r * 0.11
    w = s // 45
    if expression in ("smile", "wink", "surprised"):
        d.ellipse((c - ex - er, ey - er * 1.4, c - ex + er, ey + er * 1.4), fill=INK)
        if expression == "wink":
            d.arc((c + ex - er * 1.5, ey - er, c + ex + er * 1.5, ey + er * 1.5), 200, 340, fill=INK, width=w)
        else:
            d.ellipse((c + ex - er, ey - er * 1.4, c + ex + er, ey + er * 1.4), fill=INK)
    elif expression == "laugh":
        for side in (-1, 1):  # eyes shut tight, tears
            x = c + side * ex
            d.line(
                [(x - er * 1.3, ey - er), (x + side * er * 0.2, ey), (x - er * 1.3, ey + er)][::side], fill=INK, width=w
            )
            d.ellipse(
                (x + side * er * 1.6 - er * 0.6, ey + er, x + side * er * 1.6 + er * 0.6, ey + er * 2.6),
                fill=(90, 180, 240, 255),
            )
    elif expression == "love":
        for side in (-1, 1):
            _heart(d, c + side * ex, ey, er * 2.2, (230, 40, 70, 255))
    else:  # cool: sunglasses
        d.rounded_rectangle((c - ex - er * 2, ey - er * 1.3, c - er * 0.5, ey + er * 1.5), radius=er, fill=INK)
        d.rounded_rectangle((c + er * 0.5, ey - er * 1.3, c + ex + er * 2, ey + er * 1.5), radius=er, fill=INK)
        d.line([(c - er, ey - er * 0.8), (c + er, ey - er * 0.8)], fill=INK, width=w)
    my = c + r * 0.3
    if expression in ("laugh", "love"):
        d.chord(
            (c - r * 0.5, my - r * 0.35, c + r * 0.5, my + r * 0.45),
            0,
            180,
            fill=(120, 30, 40, 255),
            outline=INK,
            width=w,
        )
    elif expression == "surprised":
        d.ellipse((c - r * 0.14, my - r * 0.1, c + r * 0.14, my + r * 0.25), fill=INK)
    else:
        d.arc((c - r * 0.45, my - r * 0.4, c + r * 0.45, my + r * 0.25), 20, 160, fill=INK, width=w)
    return expression


def _heart(d: ImageDraw.ImageDraw, cx: float, cy: float, size: float, color: tuple[int, ...]) -> None:
    """A heart `size` wide centred on (cx, cy), from the classic parametric curve."""
    k = size / 34
    pts = []
    for i in range(120):
        t = i * math.tau / 120
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((cx + x * k, cy - y * k))
    d.polygon(pts, fill=color)


def _hearts(img: Image.Image, d: ImageDraw.ImageDraw, rng: random.Random) -> str:
    s = img.width
    color = rng.choice([(230, 40, 70), (255, 90, 140), (200, 30, 50), (250, 120, 60), (170, 70, 200)])
    count = rng.choice([1, 1, 2, 3])
    if count == 1:
        _heart(d, s / 2, s * 0.48, s * 0.85, (*color, 255))
        d.ellipse((s * 0.27, s * 0.3, s * 0.37, s * 0.4), fill=(255, 255, 255, 160))  # shine
    else:
        for i in range(count):
            size = s * (0.6 - 0.12 * i)
            _heart(d, s * (0.42 + 0.18 * i), s * (0.55 - 0.14 * i), size, (*color, 255))
    return str(count)


def _thumbs_up(img: Image.Image, d: ImageDraw.ImageDraw, rng: random.Random) -> str:
    s = img.width
    skin = rng.choice([(255, 205, 150), (225, 170, 120), (180, 120, 80), (120, 80, 50)])
    dark = tuple(round(v * 0.75) for v in skin)
    d.rounded_rectangle(
        (s * 0.3, s * 0.45, s * 0.72, s * 0.85), radius=s * 0.07, fill=(*skin, 255), outline=(*dark, 255), width=s // 80
    )
    d.rounded_rectangle(
        (s * 0.36, s * 0.12, s * 0.5, s * 0.55), radius=s * 0.07, fill=(*skin, 255), outline=(*dark, 255), width=s // 80
    )
    for i in range(1, 4):  # fingers
        y = s * (0.45 + i * 0.1)
        d.line([(s * 0.5, y), (s * 0.7, y)], fill=(*dark, 255), width=s // 90)
    cuff = rng.choice([(60, 110, 200), (220, 60, 60), (60, 160, 90), (240, 240, 240)])
    d.rectangle((s * 0.16, s * 0.47, s * 0.3, s * 0.86), fill=(*cuff, 255))
    return "up"


def _bubble(img: Image.Image, d: ImageDraw.ImageDraw, rng: random.Random) -> str:
    s = img.width
    word = rng.choice(WORDS)
    color = rng.choice([(255, 255, 255), (220, 248, 198), (255, 236, 140), (190, 225, 255)])
    ink = rng.choice([(40, 40, 40), (200, 40, 80), (30, 90, 180)])
    d.rounded_rectangle(
        (s * 0.06, s * 0.2, s * 0.94, s * 0.72), radius=s * 0.16, fill=(*color, 255), outline=(*ink, 255), width=s // 60
    )
    tail = [(s * 0.25, s * 0.68), (s * 0.18, s * 0.88), (s * 0.42, s * 0.7)]
    d.polygon(tail, fill=(*color, 255))
    d.line([tail[0], tail[1], tail[2]], fill=(*ink, 255), width=s // 60)
    size = int(s * (0.26 if len(word) <= 5 else 0.17))
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = d.textbbox((0, 0), word, font=font)
    d.text(((s - (right - left)) / 2 - left, s * 0.46 - (bottom - top) / 2 - top), word, font=font, fill=(*ink, 255))
    return word


STICKERS: dict[str, Callable[[Image.Image, ImageDraw.ImageDraw, random.Random], str]] = {
    "face": _face,
    "heart": _hearts,
    "thumbs_up": _thumbs_up,
    "bubble": _bubble,
}
