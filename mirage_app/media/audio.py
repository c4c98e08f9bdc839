"""Samples in, a WhatsApp-style voice note out: mono, 16 kHz, OGG/Opus (what the phone app records)."""

from __future__ import annotations

import io

import numpy as np
import soundfile as sf

VOICE_RATE = 16_000  # one of the rates Opus encodes natively (8/12/16/24/48 kHz)
VOICE_MIME = "audio/ogg; codecs=opus"


def to_mono(samples: np.ndarray) -> np.ndarray:
    """float32 mono from (frames,) or (frames, channels)."""
    data = np.asarray(samples, dtype=np.float32)
    return data.mean(axis=1, dtype=np.float32) if data.ndim == 2 else data


def resample(samples: np.ndarray, rate_from: int, rate_to: int = VOICE_RATE) -> np.ndarray:
    """Band-limited resampling in the frequency domain (numpy only): dropping the bins above the new Nyquist
    frequency is the low-pass filter that plain interpolation would lack."""
    if rate_from == rate_to or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    n_out = max(1, round(samples.size * rate_to / rate_from))
    spectrum = np.fft.rfft(samples)
    bins = n_out // 2 + 1
    if bins <= spectrum.size:
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - spectrum.size, dtype=spectrum.dtype)])
    out = np.fft.irfft(spectrum, n_out) * (n_out / samples.size)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def encode_voice(samples: np.ndarray, rate: int) -> tuple[bytes, float]:
    """OGG/Opus mono 16 kHz bytes and the length in seconds, from float samples at `rate`."""
    mono = resample(to_mono(samples), rate)
    buf = io.BytesIO()
    sf.write(buf, mono, VOICE_RATE, format="OGG", subtype="OPUS")
    return buf.getvalue(), mono.size / VOICE_RATE
