"""Samples in, a voice note out: mono, 16 kHz, OGG/Vorbis.

Evolution converts every voice note to OGG/Opus 48 kHz with ffmpeg before WhatsApp sees it (`sendWhatsAppAudio`'s
`encoding`, true by default: shared/reference/evolution-rich-actions.md §12.2), so the file Mirage keeps is that
conversion's input and what the browser plays. Vorbis, then: libsndfile encodes a 4-second note in about 8 ms of
CPU as Vorbis and about 105 ms as Opus, and a worker pays that for every voice note it speaks. Uploads already
in OGG (Opus or Vorbis), mono and 16 kHz are kept byte for byte (`sniff`)."""

from __future__ import annotations

import io
import zlib

import numpy as np
import soundfile as sf

VOICE_RATE = 16_000  # one of the rates Opus encodes natively (8/12/16/24/48 kHz)
# libsndfile's level maps to Vorbis quality (1 - level): 0.9 gives about 34 kbit/s for speech at 16 kHz, near what
# the phone app records, and encodes no slower than the default.
VORBIS_LEVEL = 0.9
VOICE_MIME = "audio/ogg; codecs=vorbis"  # what `encode_voice` makes
OPUS_MIME = "audio/ogg; codecs=opus"  # an uploaded Opus voice note, kept as it came


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
    # Zero-padded to a length whose only prime factors are 2, 3 and 5: an FFT of a length with a large prime
    # factor (eSpeak's output has any length) is several times slower. The padding is silence, cut off again.
    n_in = _fast_length(samples.size)
    n_out_padded = round(n_in * rate_to / rate_from)
    spectrum = np.fft.rfft(samples, n_in)
    bins = n_out_padded // 2 + 1
    if bins <= spectrum.size:
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - spectrum.size, dtype=spectrum.dtype)])
    out = np.fft.irfft(spectrum, n_out_padded)[:n_out] * (n_out_padded / n_in)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def _fast_length(n: int) -> int:
    """The smallest length >= n with no prime factor above 5."""
    best = 1 << max(0, (n - 1).bit_length())
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            candidate = power35
            while candidate < n:
                candidate *= 2
            best = min(best, candidate)
            power35 *= 3
        power5 *= 5
    return best


def encode_voice(samples: np.ndarray, rate: int) -> tuple[bytes, float]:
    """OGG/Vorbis mono 16 kHz bytes and the length in seconds, from float samples at `rate`. The same samples give the
    same bytes (see `with_serial`), so the library recognises a voice note it already holds."""
    mono = resample(to_mono(samples), rate)
    buf = io.BytesIO()
    sf.write(buf, mono, VOICE_RATE, format="OGG", subtype="VORBIS", compression_level=VORBIS_LEVEL)
    return with_serial(buf.getvalue(), zlib.crc32(mono.tobytes())), mono.size / VOICE_RATE


_BIT_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def _ogg_crc(page: bytes) -> int:
    """Ogg's page checksum (CRC-32, polynomial 0x04C11DB7, not reflected, no initial or final XOR), computed with
    zlib's reflected CRC-32 on bit-reversed bytes, so a long voice note is checked in C rather than in Python."""
    reflected = zlib.crc32(page.translate(_BIT_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def with_serial(data: bytes, serial: int) -> bytes:
    """The Ogg stream with its serial number set to `serial` on every page (checksums recomputed).

    libsndfile numbers each stream it writes from a clock-seeded generator, so encoding the same audio twice gave
    two different files; a serial taken from the audio itself makes the encoding repeatable."""
    out = bytearray(data)
    pos = 0
    while pos + 27 <= len(out) and out[pos : pos + 4] == b"OggS":
        segments = out[pos + 26]
        end = pos + 27 + segments + sum(out[pos + 27 : pos + 27 + segments])
        out[pos + 14 : pos + 18] = (serial & 0xFFFFFFFF).to_bytes(4, "little")
        out[pos + 22 : pos + 26] = bytes(4)
        out[pos + 22 : pos + 26] = _ogg_crc(bytes(out[pos:end])).to_bytes(4, "little")
        pos = end
    return bytes(out)
