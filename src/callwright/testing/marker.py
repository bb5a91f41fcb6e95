"""A tiny "speech" code so fake TTS audio can be read back by fake STT.

Each UTF-8 byte of the text becomes ``ms_per_char`` of a full-scale alternating square
wave whose amplitude encodes the byte (``1000 + 64 * byte``). It is loud (an energy VAD
calls it speech), deterministic, survives any re-chunking at 16 kHz, and noise or silence
decode to nothing. It does not survive resampling or lossy codecs: it is for tests.
"""

from __future__ import annotations

import numpy as np

from callwright.providers.base import SAMPLE_RATE_HZ

DEFAULT_MS_PER_CHAR = 20
_BASE = 1000
_STEP = 64


def _symbol_samples(ms_per_char: int) -> int:
    return max(2, SAMPLE_RATE_HZ * ms_per_char // 1000)


def encode(text: str, *, ms_per_char: int = DEFAULT_MS_PER_CHAR) -> bytes:
    """PCM16 audio carrying ``text``; its length is proportional to the text."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int32)
    if not data.size:
        return b""
    n = _symbol_samples(ms_per_char)
    amp = np.repeat(_BASE + _STEP * data, n)
    sign = np.where(np.arange(amp.size) % 2 == 0, 1, -1)
    return (amp * sign).astype("<i2").tobytes()


def decode(pcm: bytes, *, ms_per_char: int = DEFAULT_MS_PER_CHAR) -> str:
    """The text carried by ``pcm`` (anything that is not marker audio is skipped)."""
    x = np.abs(np.frombuffer(pcm, dtype="<i2").astype(np.int32))
    if not x.size:
        return ""
    n = _symbol_samples(ms_per_char)
    edges = np.flatnonzero(np.diff(x) != 0) + 1
    starts = np.concatenate(([0], edges))
    lengths = np.diff(np.concatenate((starts, [x.size])))
    out = bytearray()
    for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
        value = int(x[start]) - _BASE
        if value < 0 or value % _STEP or value // _STEP > 255 or length < n // 2:
            continue
        out += bytes([value // _STEP]) * max(1, round(length / n))
    return out.decode("utf-8", errors="ignore")
