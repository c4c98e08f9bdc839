"""Uploads are judged by their bytes: every accepted type comes out normalised, every refusal is a MediaRejected
with its code, and no byte string makes the decoders raise anything else."""

from __future__ import annotations

import io

import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mirage_app.i18n import PT_BR
from mirage_app.i18n.en import CATALOG as EN
from mirage_app.media.rejected import CODES, MB, MediaRejected
from mirage_app.media.sniff import sniff
from tests.media.samples import audio, picture


def _rejected(data: bytes, kind: str) -> MediaRejected:
    with pytest.raises(MediaRejected) as caught:
        sniff(data, kind)
    return caught.value


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_every_picture_format_becomes_a_jpeg(fmt):
    media = sniff(picture(fmt), "image")
    assert (media.kind, media.mime, media.source_format) == ("image", "image/jpeg", fmt)
    assert Image.open(io.BytesIO(media.data)).format == "JPEG"
    assert (media.width, media.height) == (64, 48)


def test_a_small_jpeg_is_kept_as_it_is_and_a_large_picture_is_scaled_down():
    small = picture("JPEG")
    assert sniff(small, "image").data == small
    big = sniff(picture("PNG", (3200, 1000)), "image")
    assert (big.width, big.height) == (1600, 500)


def test_transparency_is_flattened_on_white_for_pictures():
    media = sniff(picture("PNG", mode="RGBA"), "image")
    assert Image.open(io.BytesIO(media.data)).mode == "RGB"


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_every_picture_format_becomes_a_512_webp_sticker_with_transparency(fmt):
    media = sniff(picture(fmt, (300, 100), mode="RGBA" if fmt in ("PNG", "WEBP") else "RGB"), "sticker")
    img = Image.open(io.BytesIO(media.data))
    assert (media.mime, img.format, img.size, img.mode) == ("image/webp", "WEBP", (512, 512), "RGBA")
    assert img.getpixel((0, 0))[3] == 0  # the letterbox around a wide picture is transparent


@pytest.mark.parametrize(
    ("fmt", "subtype", "channels", "rate"),
    [
        ("OGG", "OPUS", 1, 48000),
        ("OGG", "OPUS", 2, 48000),
        ("OGG", "VORBIS", 1, 22050),
        ("WAV", "PCM_16", 2, 44100),
        ("FLAC", "PCM_16", 1, 8000),
        ("MP3", None, 1, 22050),
    ],
)
def test_every_audio_format_becomes_a_mono_16k_ogg_voice_note(fmt, subtype, channels, rate):
    media = sniff(audio(fmt, subtype, seconds=1.5, rate=rate, channels=channels), "voice")
    info = sf.info(io.BytesIO(media.data))
    assert (media.kind, media.mime) == ("voice", "audio/ogg; codecs=vorbis")
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("OGG", "VORBIS", 1, 16000)
    assert media.source_format.startswith(fmt)
    assert media.duration_s == pytest.approx(1.5, abs=0.1)


def test_every_refusal_code():
    codes = {
        _rejected(b"", "image").code,
        _rejected(b"%PDF-1.7 not a picture", "image").code,
        _rejected(audio("WAV", "PCM_16"), "image").code,  # audio as a picture
        _rejected(picture("PNG"), "voice").code,  # a picture as a voice note
        _rejected(b"\x00" * (1 * MB + 1), "sticker").code,
        _rejected(picture("PNG")[:40], "image").code,
        _rejected(b"OggS" + b"\x00" * 200, "voice").code,
        _rejected(audio("WAV", "PCM_16", seconds=181, rate=8000), "voice").code,
        _rejected(audio("WAV", "PCM_16", seconds=0.2), "voice").code,
    }
    assert codes == CODES - {"too_many_pixels"}
    huge = picture("PNG", (8000, 6000), mode="1")  # 48 megapixels, a few kB of PNG
    assert _rejected(huge, "image").code == "too_many_pixels"


def test_aiff_is_not_a_voice_note_even_though_libsndfile_reads_it():
    assert _rejected(audio("AIFF", "PCM_16"), "voice").code == "unsupported_type"


def test_the_declared_name_or_type_plays_no_part():
    # The same bytes are refused or accepted only by what they are: there is no name or MIME type to pass.
    assert sniff(picture("PNG"), "image").source_format == "PNG"
    assert _rejected(b"GIF89a" + b"\x00" * 10, "image").code == "undecodable_image"


def test_each_code_has_an_operator_message_in_both_languages():
    for code in CODES:
        assert f"media.rejected.{code}" in PT_BR and f"media.rejected.{code}" in EN
    exc = MediaRejected("too_large", limit_mb=5)
    assert "5 MB" in exc.message("pt-BR") and "5 MB" in exc.message("en")
    assert exc.message("pt-BR") != exc.message("en")


SIGNATURES = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP", b"OggS", b"fLaC",
              b"ID3", b"\xff\xfb", b"RIFF\x00\x00\x00\x00WAVE"]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(SIGNATURES),
    tail=st.binary(max_size=600),
    kind=st.sampled_from(["image", "sticker", "voice"]),
)
def test_random_bytes_never_raise_anything_but_media_rejected(prefix, tail, kind):
    try:
        sniff(prefix + tail, kind)
    except MediaRejected as exc:
        assert exc.code in CODES


def test_a_voice_note_already_in_whatsapp_form_is_kept_and_others_encode_the_same_way_twice():
    for subtype, mime in (("OPUS", "audio/ogg; codecs=opus"), ("VORBIS", "audio/ogg; codecs=vorbis")):
        ready = audio("OGG", subtype, rate=16000)
        kept = sniff(ready, "voice")
        assert (kept.data, kept.mime) == (ready, mime)
    wav = audio("WAV", "PCM_16")
    assert sniff(wav, "voice").data == sniff(wav, "voice").data  # so the library recognises a second upload
