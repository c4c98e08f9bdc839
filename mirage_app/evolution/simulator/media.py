"""Media bodies as Evolution 2.3.7 takes them (reference §11.2–§11.4): accept, decode, check, describe.

The simulator has no internet, so URL media pass the acceptance check (like Evolution) but their download fails
with the error Evolution gives for an unreachable file. Base64 bodies are decoded and must really be what they
claim: images go through Pillow (sharp's error otherwise), stickers become WebP, voice notes must decode as audio.
The decoded bytes' sha256 and size are kept so a test can check what arrived.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import math
import re
import struct
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy  # soundfile's own dependency
import soundfile
from PIL import Image, UnidentifiedImageError

from mirage_app.evolution.simulator.envelope import http_error, runtime_error

OPUS_MIME = "audio/ogg; codecs=opus"
_URL = re.compile(r"^(?:(?:https?|ftp)://)?(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?::\d+)?(?:/\S*)?$")
_IP_URL = re.compile(r"^(?:(?:https?|ftp)://)?\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?:/\S*)?$")
_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
_MAX_URL = 2084
_SHARP_UNSUPPORTED = "Input buffer contains unsupported image format"
_MIME_BY_EXT = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
    "mp4": "video/mp4", "3gp": "video/3gpp", "pdf": "application/pdf", "txt": "text/plain", "ogg": "audio/ogg",
    "oga": "audio/ogg", "opus": "audio/ogg", "mp3": "audio/mpeg", "m4a": "audio/mp4", "wav": "audio/wav",
    "csv": "text/csv", "zip": "application/zip",
}  # fmt: skip


@dataclass(frozen=True)
class Media:
    """What the sender's media became: the bytes WhatsApp would carry and how to describe them."""

    data: bytes
    mimetype: str
    width: int | None = None
    height: int | None = None
    seconds: int | None = None

    @property
    def sha256(self) -> bytes:
        return hashlib.sha256(self.data).digest()

    @property
    def size(self) -> int:
        return len(self.data)


def is_url(value: str) -> bool:
    """validator's `isURL()` with default options: scheme optional, a TLD or an IP host, at most 2084 chars."""
    return len(value) <= _MAX_URL and bool(_URL.match(value) or _IP_URL.match(value))


def is_base64(value: str) -> bool:
    """validator's `isBase64()`: length a multiple of 4, no whitespace; "" counts as base64."""
    return len(value) % 4 == 0 and bool(_BASE64.match(value))


def accept(value: Any, message: str) -> str:
    """The controller check: a URL or base64 string, else 400 with the route's own text."""
    if not isinstance(value, str) or not (is_url(value) or is_base64(value)):
        raise http_error(400, [message])
    return value


def decode(value: str) -> bytes | None:
    """The bytes of a base64 body; None for a URL (the caller fails the download)."""
    if is_url(value) and not is_base64(value):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


LOOPBACK_HOSTS = ("127.0.0.1", "::1")


def fetch_status_file(url: str) -> bytes | None:
    """What Baileys downloads for a picture or video status. The simulator has no internet: only a URL on this
    machine (a loopback IP, e.g. Mirage's own signed link) is fetched; others carry no bytes (None). A loopback URL
    that does not answer 2xx fails the send as Baileys' stream download does."""
    if urlsplit(url).hostname not in LOOPBACK_HOSTS:
        return None
    try:
        response = httpx.get(url, timeout=10.0)
    except httpx.HTTPError:
        response = None
    if response is None or response.status_code >= 300 or not response.content:
        raise http_error(500, [f"Error: Failed to fetch stream from {url}"])
    return response.content


@lru_cache(maxsize=256)  # a file sent again converts the same way
def image(value: str) -> Media:
    """sendMedia image: sharp re-encodes to JPEG; a non-image is a 500 from `prepareMediaMessage`."""
    data = decode(value)
    if data is None:
        raise http_error(500, ["AxiosError: Request failed with status code 404"])
    picture = _open_image(data, lambda: http_error(500, [f"Error: {_SHARP_UNSUPPORTED}"]))
    out = io.BytesIO()
    picture.convert("RGB").save(out, format="JPEG", quality=85)
    return Media(out.getvalue(), "image/jpeg", picture.width, picture.height)


@lru_cache(maxsize=256)  # a file sent again converts the same way
def sticker(value: str) -> Media:
    """sendSticker: any image sharp reads becomes WebP; a failure is thrown outside the try (500, string)."""
    data = decode(value)
    if data is None:
        raise runtime_error("Request failed with status code 404")
    picture = _open_image(data, lambda: runtime_error(_SHARP_UNSUPPORTED))
    out = io.BytesIO()
    picture.convert("RGBA").save(out, format="WEBP", quality=80)
    return Media(out.getvalue(), "image/webp", picture.width, picture.height)


@lru_cache(maxsize=256)  # a file sent again converts the same way
def voice(value: str) -> Media:
    """sendWhatsAppAudio: ffmpeg must read it (no clean error mapping in Evolution: a 500 here)."""
    data = decode(value)
    if data is None:
        raise http_error(500, ["Error: Failed to fetch stream from URL"])
    try:
        info = soundfile.info(io.BytesIO(data))
    except (RuntimeError, soundfile.LibsndfileError, TypeError, ValueError) as exc:
        raise http_error(500, ["Error: ffmpeg exited with code 1: Invalid data found when processing input"]) from exc
    if info.samplerate <= 0 or info.frames <= 0:
        raise http_error(500, ["Error: ffmpeg exited with code 1: Output file is empty, nothing was encoded"])
    return Media(data, OPUS_MIME, seconds=max(1, math.ceil(info.frames / info.samplerate)))


def other(value: str, mediatype: str, mimetype: str | None, file_name: str | None) -> Media:
    """sendMedia video/document/audio: sent as they are; the mimetype follows the file name when one is set."""
    data = decode(value)
    if data is None:
        raise http_error(500, [f"Error: Failed to fetch stream from {value}"])
    if file_name:
        mimetype = mime_lookup(file_name)
    default = {"video": "video/mp4", "audio": "audio/mpeg", "document": "application/octet-stream"}[mediatype]
    return Media(data, mimetype or default)


def mime_lookup(file_name: str) -> str:
    """`mimeTypes.lookup(fileName).toString()`: "false" for an unknown extension (reference §12.1 bug)."""
    ext = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    return _MIME_BY_EXT.get(ext, "false")


def _open_image(data: bytes, error: Any) -> Image.Image:
    try:
        picture = Image.open(io.BytesIO(data))
        picture.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise error() from exc
    return picture


def index_object(data: bytes) -> dict[str, int]:
    """A Uint8Array as JSON.stringify writes it: `{"0": 146, "1": 129, ...}` (reference §11.4)."""
    return {str(i): b for i, b in enumerate(data)}


def long_value(value: int, unsigned: bool) -> dict[str, Any]:
    """A protobuf Long as `{low, high, unsigned}`; `low` is a signed int32."""
    low, high = struct.unpack("<ii", struct.pack("<Q", value & 0xFFFFFFFFFFFFFFFF))
    return {"low": low, "high": high, "unsigned": unsigned}


def fake_cdn(rng_hex: str) -> tuple[str, str]:
    """(url, directPath) of an encrypted CDN blob; never fetched."""
    path = f"/v/t62.7118-24/{rng_hex}.enc?ccb=11-4&oh=01_Q5Aa&oe=69C97F7E&_nc_sid=e6ed6c"
    return f"https://mmg.whatsapp.net{path}&mms3=true", path


def message_object(media: Media, mediatype: str, *, stamp: int, key_material: bytes, url_hex: str) -> dict[str, Any]:
    """The `<type>Message` proto as `prepareMessage` serialises it (bytes as index objects, longs as Longs)."""
    url, direct_path = fake_cdn(url_hex)
    body: dict[str, Any] = {
        "url": url,
        "mimetype": media.mimetype,
        "fileSha256": index_object(media.sha256),
        "fileLength": long_value(media.size, True),
        "mediaKey": index_object(key_material[:32]),
        "fileEncSha256": index_object(hashlib.sha256(key_material + media.data).digest()),
        "directPath": direct_path,
        "mediaKeyTimestamp": long_value(stamp, False),
    }
    if mediatype in ("image", "sticker") and media.width:
        body |= {"height": media.height, "width": media.width}
    if mediatype == "image":
        body = {"interactiveAnnotations": [], "scanLengths": [], "annotations": []} | body
    if mediatype == "voice":
        body |= {"seconds": media.seconds, "ptt": True, "waveform": index_object(_waveform(media.data))}
    if mediatype == "sticker":
        body |= {"stickerSentTs": long_value(stamp * 1000, False), "isAnimated": False}
    return body


def _waveform(data: bytes) -> bytes:
    """64 loudness samples, as Baileys computes for PTT; derived from the bytes so it is stable."""
    digest = hashlib.sha256(data).digest() * 2
    return bytes(b % 100 for b in digest)


def tone_ogg(seconds: float = 1.0, frequency: float = 440.0) -> bytes:
    """A tiny OGG/Opus tone: what a simulated human's voice note carries."""
    rate = 48000
    t = numpy.arange(int(rate * seconds)) / rate
    samples = (0.2 * numpy.sin(2 * math.pi * frequency * t)).astype("float32")
    out = io.BytesIO()
    soundfile.write(out, samples, rate, format="OGG", subtype="OPUS")
    return out.getvalue()


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode()
