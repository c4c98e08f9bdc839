"""What an uploaded file really is, judged by its bytes (never its name or declared type), and the form it is
kept in: pictures as JPEG of at most 1600 px a side, stickers as 512×512 WebP with transparency, voice notes as
OGG mono 16 kHz (Opus or Vorbis as uploaded, else encoded as Vorbis: `audio`).

Every failure is a `MediaRejected`: the decoders (Pillow, libsndfile) raise many kinds of errors on hostile
bytes, and none of them may escape as anything else.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import soundfile as sf
from PIL import Image, ImageOps

from mirage_app.media.audio import OPUS_MIME, VOICE_MIME, VOICE_RATE, encode_voice
from mirage_app.media.rejected import MAX_BYTES, MAX_MEGAPIXELS, MAX_VOICE_S, MB, MIN_VOICE_S, MediaRejected

KINDS = ("image", "sticker", "voice")
PICTURE_SIDE = 1600
STICKER_SIDE = 512
# A JPEG this small and no wider than PICTURE_SIDE is kept byte for byte: re-encoding would only lose quality.
SMALL_JPEG = 1 * MB
IMAGE_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})
AUDIO_FORMATS = {"OGG": {"OPUS", "VORBIS"}, "WAV": None, "WAVEX": None, "FLAC": None, "MP3": None}
_KEPT_OGG = {"OPUS": OPUS_MIME, "VORBIS": VOICE_MIME}


@dataclass(frozen=True)
class SniffedMedia:
    kind: str  # image | sticker | voice
    mime: str  # of `data`, the normalised bytes
    data: bytes
    source_format: str  # what the upload was: PNG, JPEG, WEBP, GIF, OGG/OPUS, WAV/PCM_16…
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


def family(data: bytes) -> str | None:
    """ "image", "audio" or None, from the file's signature."""
    head = data[:16]
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio"
    if head.startswith((b"OggS", b"fLaC", b"ID3")) or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio"
    return None


def sniff(data: bytes, kind: str) -> SniffedMedia:
    """The file as `kind` (image, sticker or voice), normalised; MediaRejected when it cannot be one."""
    if kind not in KINDS:
        raise MediaRejected("unsupported_type", f"unknown kind {kind!r}")
    if not data:
        raise MediaRejected("empty")
    if len(data) > MAX_BYTES[kind]:
        raise MediaRejected("too_large", f"{len(data)} bytes", limit_mb=MAX_BYTES[kind] // MB)
    found = family(data)
    wanted = "audio" if kind == "voice" else "image"
    if found != wanted:
        raise MediaRejected("unsupported_type", f"{found or 'unknown'} bytes for a {kind}")
    if kind == "voice":
        return _voice(data)
    return _picture(data) if kind == "image" else _sticker(data)


def _open_image(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.format not in IMAGE_FORMATS:
                raise MediaRejected("unsupported_type", f"image format {img.format}")
            if img.width * img.height > MAX_MEGAPIXELS * 1_000_000:
                raise MediaRejected("too_many_pixels", f"{img.width}x{img.height}", limit=MAX_MEGAPIXELS)
            img.load()
    except MediaRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaRejected("too_many_pixels", str(exc)[:200], limit=MAX_MEGAPIXELS) from None
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, struct.error… on damaged files
        raise MediaRejected("undecodable_image", f"{type(exc).__name__}: {exc}"[:200]) from None
    return img


def _upright(img: Image.Image) -> Image.Image:
    """The picture as the phone showed it (EXIF orientation applied); the first frame of an animation."""
    try:
        return ImageOps.exif_transpose(img) or img
    except Exception:  # a damaged EXIF block only loses the rotation
        return img


def _picture(data: bytes) -> SniffedMedia:
    img = _open_image(data)
    fmt = img.format
    if fmt == "JPEG" and len(data) <= SMALL_JPEG and max(img.size) <= PICTURE_SIDE:
        return SniffedMedia("image", "image/jpeg", data, fmt, img.width, img.height)
    img = _upright(img)
    if img.mode in ("RGBA", "LA", "P", "PA"):
        rgba = img.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))  # transparency becomes white, as WhatsApp shows it
        img = flat
    else:
        img = img.convert("RGB")
    img.thumbnail((PICTURE_SIDE, PICTURE_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    return SniffedMedia("image", "image/jpeg", out.getvalue(), fmt, img.width, img.height)


def _sticker(data: bytes) -> SniffedMedia:
    img = _open_image(data)
    fmt = img.format
    img = _upright(img).convert("RGBA")
    img.thumbnail((STICKER_SIDE, STICKER_SIDE), Image.Resampling.LANCZOS)
    canvas = Image.new("RGBA", (STICKER_SIDE, STICKER_SIDE), (0, 0, 0, 0))
    canvas.paste(img, ((STICKER_SIDE - img.width) // 2, (STICKER_SIDE - img.height) // 2), img)
    return SniffedMedia("sticker", "image/webp", sticker_webp(canvas), fmt, STICKER_SIDE, STICKER_SIDE)


def sticker_webp(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, "WEBP", quality=80, method=2)  # 4 (the default) costs twice the CPU for 5 % fewer bytes
    return out.getvalue()


def _voice(data: bytes) -> SniffedMedia:
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            fmt, subtype, rate, channels = f.format, f.subtype, f.samplerate, f.channels
            allowed = AUDIO_FORMATS.get(fmt, set())
            if allowed is not None and subtype not in allowed:
                raise MediaRejected("unsupported_type", f"audio {fmt}/{subtype}")
            if rate <= 0 or channels <= 0:
                raise MediaRejected("undecodable_audio", f"{rate} Hz, {channels} channels")
            # Read at most a little past the limit: a longer file is refused without decoding all of it.
            samples = f.read(frames=int(rate * (MAX_VOICE_S + 1)), dtype="float32", always_2d=True)
    except MediaRejected:
        raise
    except Exception as exc:  # libsndfile's errors, and what a damaged stream makes the decoder raise
        raise MediaRejected("undecodable_audio", f"{type(exc).__name__}: {exc}"[:200]) from None
    seconds = len(samples) / rate
    if seconds > MAX_VOICE_S:
        raise MediaRejected("too_long", f"{seconds:.1f} s", limit_s=int(MAX_VOICE_S))
    if seconds < MIN_VOICE_S:
        raise MediaRejected("too_short", f"{seconds:.2f} s", limit_s=MIN_VOICE_S)
    if not np.isfinite(samples).all():
        raise MediaRejected("undecodable_audio", "samples that are not numbers")
    source = f"{fmt}/{subtype}"
    if fmt == "OGG" and subtype in _KEPT_OGG and channels == 1 and rate == VOICE_RATE:  # already a voice note
        return SniffedMedia("voice", _KEPT_OGG[subtype], data, source, duration_s=round(seconds, 2))
    encoded, seconds = encode_voice(samples, rate)
    return SniffedMedia("voice", VOICE_MIME, encoded, source, duration_s=round(seconds, 2))
