"""Audio helpers for the provider tests (kept out of conftest so test files can import them)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

SENTENCES = (
    "I would like to check the status of my order.",
    "Can you please transfer me to the billing department?",
)


def normalise(text: str) -> str:
    """Lower-case words only, for word error rates."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).strip()


def pcm16_to_float(pcm: bytes) -> np.ndarray[Any, np.dtype[np.float32]]:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(samples: np.ndarray[Any, Any]) -> bytes:
    return bytes(np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tobytes())


# G.711 mu-law in numpy (bit-exact with CPython's audioop, see research/engines.md).
_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def lin2ulaw(x: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.uint8]]:
    s = np.clip(np.round(np.asarray(x) * 32767), -32768, 32767).astype(np.int32) >> 2
    mask = np.where(s < 0, 0x7F, 0xFF)
    s = np.minimum(np.abs(s), 8159) + 33
    seg = np.searchsorted(_SEG_END, s)
    u = np.where(seg >= 8, 0x7F, (seg << 4) | ((s >> (np.minimum(seg, 7) + 1)) & 0x0F)) ^ mask
    return u.astype(np.uint8)


def ulaw2lin(u: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float32]]:
    v = ~u.astype(np.int32) & 0xFF
    sign, exp, mant = v & 0x80, (v >> 4) & 7, v & 0x0F
    s = (((mant << 3) + 0x84) << exp) - 0x84
    return (np.where(sign != 0, -s, s) / 32768.0).astype(np.float32)


def phone_line(pcm_16k: bytes) -> bytes:
    """16 kHz PCM → 8 kHz G.711 mu-law → back to 16 kHz PCM, as a phone call would."""
    import soxr

    narrow = soxr.resample(pcm16_to_float(pcm_16k), 16_000, 8_000)
    decoded = ulaw2lin(lin2ulaw(narrow))
    return float_to_pcm16(soxr.resample(decoded, 8_000, 16_000))


async def collect(chunks: Any) -> bytes:
    return b"".join([chunk async for chunk in chunks])
