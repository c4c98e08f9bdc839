"""Voice notes spoken from a line of text: the speech API of the configured OpenAI-compatible server when there is
one, else (and whenever it fails) eSpeak NG, offline. Either way the result is a WhatsApp-style voice note: OGG/Opus
mono 16 kHz.

eSpeak NG is a C library (loaded with ctypes from the `espeakng_loader` wheel) with global state and no thread
safety: it is initialised once per process and every synthesis holds `_LOCK`.
"""

from __future__ import annotations

import ctypes
import logging
import random
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from mirage_app.core.config import get_settings
from mirage_app.media.audio import VOICE_MIME, encode_voice
from mirage_app.media.rejected import MediaRejected
from mirage_app.media.sniff import sniff

log = logging.getLogger("mirage.media.speech")

MAX_CHARS = 600  # a voice note of about 40 s: longer turns are cut at a word boundary
TTS_MODEL = "gpt-4o-mini-tts"
TTS_VOICES = ("alloy", "coral", "nova", "sage", "shimmer", "echo", "ash")
# eSpeak voices per locale, with the variants (timbres) a seed chooses among.
ESPEAK_VOICES = {"pt-BR": "pt-br", "en": "en-us"}
ESPEAK_VARIANTS = ("", "+f2", "+f3", "+f4", "+m1", "+m3", "+m7")
_SYNCHRONOUS, _CHARS_UTF8, _RATE, _PITCH = 2, 1, 1, 3
_LOCK = threading.Lock()
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@dataclass(frozen=True)
class Speech:
    data: bytes  # OGG/Opus mono 16 kHz
    seconds: float
    source: str  # "espeak" or "openai:<host>"
    mime: str = VOICE_MIME


class SpeechUnavailable(Exception):
    """Neither the speech API nor eSpeak could speak the text."""


def _clip(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= MAX_CHARS:
        return text
    return text[:MAX_CHARS].rsplit(" ", 1)[0]


def speak(text: str, locale: str = "pt-BR", *, seed: int | str = 0, client: Any = None) -> Speech:
    """`text` as a voice note. `client` is an OpenAI SDK client (`default_client()` in production); without one,
    or when its answer is an error or not a usable voice note, eSpeak speaks."""
    text = _clip(text)
    if not text:
        raise SpeechUnavailable("nothing to say")
    rng = random.Random(f"mirage-speech:{seed}")
    if client is not None:
        try:
            return _api(client, text, rng)
        except MediaRejected as exc:
            log.warning("speech API answered an unusable file (%s); speaking with eSpeak", exc)
        except Exception as exc:  # any SDK or network failure: the offline voice is always there
            log.warning("speech API failed (%s: %s); speaking with eSpeak", type(exc).__name__, exc)
    return espeak(text, locale, rng)


def _api(client: Any, text: str, rng: random.Random) -> Speech:
    response = client.audio.speech.create(
        model=TTS_MODEL, voice=rng.choice(TTS_VOICES), input=text, response_format="opus"
    )
    voice = sniff(response.content, "voice")  # mono 16 kHz, and a check that it really is audio
    host = getattr(getattr(client, "base_url", None), "host", None) or "api.openai.com"
    return Speech(voice.data, voice.duration_s or 0.0, f"openai:{host}")


@lru_cache
def default_client() -> Any:
    """An OpenAI SDK client for the configured server (the same key and URL as the reply generator), or None."""
    settings = get_settings()
    if not settings.openai_api_key:
        return None
    from openai import OpenAI

    return OpenAI(
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url or None,
        timeout=settings.llm_timeout_s,
        max_retries=0,
    )


class _ESpeak:
    """The process's one eSpeak NG instance."""

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        self.rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
        if self.rate <= 0:
            raise SpeechUnavailable(f"espeak_Initialize returned {self.rate}")
        self.lib = lib
        self.chunks: list[np.ndarray] = []
        self.callback = _CALLBACK(self._collect)  # kept on self: the C side holds only a raw pointer
        lib.espeak_SetSynthCallback(self.callback)

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        if wav and count > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0  # go on

    def synth(self, text: str, voice: str, rate: int, pitch: int) -> np.ndarray:
        self.chunks = []
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise SpeechUnavailable(f"no eSpeak voice {voice}")
        self.lib.espeak_SetParameter(_RATE, rate, 0)
        self.lib.espeak_SetParameter(_PITCH, pitch, 0)
        data = text.encode()
        status = self.lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        if status != 0 or not self.chunks:
            raise SpeechUnavailable(f"espeak_Synth returned {status}")
        return np.concatenate(self.chunks).astype(np.float32) / 32768.0


_engine: _ESpeak | None = None


def _instance() -> _ESpeak:
    """The eSpeak instance, made on first use; call with `_LOCK` held."""
    global _engine
    if _engine is None:
        _engine = _ESpeak()
    return _engine


def espeak(text: str, locale: str, rng: random.Random) -> Speech:
    """`text` spoken by eSpeak NG in the locale's voice, with a timbre, pace and pitch chosen by `rng`."""
    voice = ESPEAK_VOICES.get(locale, "pt-br") + rng.choice(ESPEAK_VARIANTS)
    rate, pitch = rng.randint(150, 185), rng.randint(35, 65)
    with _LOCK:
        try:
            engine = _instance()
            samples = engine.synth(text, voice, rate, pitch)
        except OSError as exc:  # the shared library would not load
            raise SpeechUnavailable(str(exc)) from None
    # A recording starts a moment before the first word and stops a moment after the last.
    pad = np.zeros(int(engine.rate * rng.uniform(0.2, 0.4)), dtype=np.float32)
    data, seconds = encode_voice(np.concatenate([pad, samples, pad[: len(pad) // 2]]), engine.rate)
    return Speech(data, round(seconds, 2), "espeak")


def available(client: Any = None) -> bool:
    """Whether a voice note can be spoken at all (the API is configured, or eSpeak loads)."""
    if client is not None:
        return True
    try:
        with _LOCK:
            _instance()
        return True
    except (OSError, SpeechUnavailable):
        return False
