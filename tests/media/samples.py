"""Small files of every kind the library accepts, made on the spot."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf
from PIL import Image


def picture(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", **save: object) -> bytes:
    color = {"RGBA": (200, 80, 40, 128), "1": 1}.get(mode, (200, 80, 40))
    img = Image.new(mode, size, color)
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


def tone(seconds: float = 1.0, rate: int = 22050, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


def audio(fmt: str, subtype: str | None = None, seconds: float = 1.0, rate: int = 22050, channels: int = 1) -> bytes:
    out = io.BytesIO()
    sf.write(out, tone(seconds, rate, channels), rate, format=fmt, subtype=subtype)
    return out.getvalue()
