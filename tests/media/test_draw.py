"""Drawn pictures and stickers: their sizes and formats, the same drawing for the same seed, variety across seeds."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from mirage_app.media.draw import SCENES, draw_picture, draw_sticker
from mirage_app.media.sniff import sniff
from mirage_app.media.stickers import STICKERS


@pytest.mark.parametrize("subject", sorted(SCENES))
def test_pictures_are_1080_jpegs_the_library_accepts(subject):
    drawing = draw_picture(7, subject)
    img = Image.open(io.BytesIO(drawing.data))
    assert (img.format, img.size, img.mode, drawing.mime) == ("JPEG", (1080, 1080), "RGB", "image/jpeg")
    assert drawing.subject == subject
    assert sniff(drawing.data, "image").data == drawing.data  # a small JPEG: kept as it is


@pytest.mark.parametrize("subject", sorted(STICKERS))
def test_stickers_are_512_webps_with_transparency(subject):
    drawing = draw_sticker(7, subject)
    img = Image.open(io.BytesIO(drawing.data))
    assert (img.format, img.size, img.mode, drawing.mime) == ("WEBP", (512, 512), "RGBA", "image/webp")
    assert img.getpixel((2, 2))[3] == 0 and img.getpixel((256, 256))[3] == 255
    assert drawing.subject.startswith(f"{subject}:")


def test_the_same_seed_draws_the_same_file():
    assert draw_picture("abc").data == draw_picture("abc").data
    assert draw_sticker(42).data == draw_sticker(42).data


def test_different_seeds_draw_different_files():
    assert len({draw_picture(seed).data for seed in range(12)}) == 12
    assert len({draw_sticker(seed).data for seed in range(12)}) == 12
    assert len({draw_picture(seed).subject.split(":")[0] for seed in range(30)}) == len(SCENES)
