"""Audio utilities: G.711 codecs, streaming resampling, 20 ms framing, WAV.

All PCM here is signed 16-bit little-endian. The G.711 codecs follow the reference
``g711.c`` (as CPython's ``audioop`` did) bit for bit, as lookup tables built on first use.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from functools import cache

import numpy as np
import numpy.typing as npt
import soxr

from callwright.providers.base import FRAME_BYTES, SAMPLE_RATE_HZ

_SEG_UEND = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)
_SEG_AEND = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF], dtype=np.int32)

Int16Array = npt.NDArray[np.int16]


def _all_samples() -> npt.NDArray[np.int32]:
    # index i of an encode table is the sample whose uint16 bit pattern is i
    return np.arange(65536, dtype=np.int32).astype(np.uint16).view(np.int16).astype(np.int32)


@cache
def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = _all_samples() >> 2  # 14-bit, arithmetic shift as in C
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(pcm), 8159) + (0x84 >> 2)
    seg = np.searchsorted(_SEG_UEND, mag, side="left")
    uval = (seg << 4) | ((mag >> (np.minimum(seg, 7) + 1)) & 0xF)
    out = np.where(seg >= 8, 0x7F ^ mask, uval ^ mask)
    return out.astype(np.uint8)


@cache
def _ulaw_decode_table() -> Int16Array:
    u = (~np.arange(256, dtype=np.int32)) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype(np.int16)


@cache
def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    pcm = _all_samples() >> 3  # 13-bit
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    mag = np.where(pcm >= 0, pcm, -pcm - 1)
    seg = np.searchsorted(_SEG_AEND, mag, side="left")
    shift = np.where(seg < 2, 1, np.minimum(seg, 7))
    aval = (seg << 4) | ((mag >> shift) & 0xF)
    out = np.where(seg >= 8, 0x7F ^ mask, aval ^ mask)
    return out.astype(np.uint8)


@cache
def _alaw_decode_table() -> Int16Array:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    t = (a & 0x0F) << 4
    seg = (a & 0x70) >> 4
    t = np.where(seg == 0, t + 8, t + 0x108)
    t = np.where(seg >= 2, t << np.maximum(seg - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


def _pcm(pcm: bytes) -> npt.NDArray[np.uint16]:
    return np.frombuffer(pcm, dtype="<u2")


def pcm16_to_ulaw(pcm: bytes) -> bytes:
    """Encode PCM16 to G.711 mu-law (one byte per sample)."""
    return bytes(_ulaw_encode_table()[_pcm(pcm)].tobytes())


def ulaw_to_pcm16(data: bytes) -> bytes:
    """Decode G.711 mu-law to PCM16."""
    return bytes(_ulaw_decode_table()[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes())


def pcm16_to_alaw(pcm: bytes) -> bytes:
    """Encode PCM16 to G.711 A-law (one byte per sample)."""
    return bytes(_alaw_encode_table()[_pcm(pcm)].tobytes())


def alaw_to_pcm16(data: bytes) -> bytes:
    """Decode G.711 A-law to PCM16."""
    return bytes(_alaw_decode_table()[np.frombuffer(data, dtype=np.uint8)].astype("<i2").tobytes())


class StreamResampler:
    """Stateful PCM16 resampler for one direction of one call (soxr streaming).

    Feed chunks of any size; output is continuous across chunks (no clicks at chunk edges).
    Call :meth:`flush` once at the end to drain the filter's delay line.
    """

    def __init__(self, *, in_rate_hz: int, out_rate_hz: int, quality: str = "HQ") -> None:
        self.in_rate_hz = in_rate_hz
        self.out_rate_hz = out_rate_hz
        self._same = in_rate_hz == out_rate_hz
        self._stream = (
            None
            if self._same
            else soxr.ResampleStream(in_rate_hz, out_rate_hz, 1, dtype="int16", quality=quality)
        )

    def process(self, pcm: bytes) -> bytes:
        if self._stream is None:
            return pcm
        x = np.frombuffer(pcm, dtype="<i2")
        return bytes(self._stream.resample_chunk(x, last=False).astype("<i2").tobytes())

    def flush(self) -> bytes:
        if self._stream is None:
            return b""
        empty = np.zeros(0, dtype=np.int16)
        return bytes(self._stream.resample_chunk(empty, last=True).astype("<i2").tobytes())


def resample(pcm: bytes, *, in_rate_hz: int, out_rate_hz: int) -> bytes:
    """One-shot resampling of a whole clip."""
    if in_rate_hz == out_rate_hz:
        return pcm
    x = np.frombuffer(pcm, dtype="<i2")
    return bytes(soxr.resample(x, in_rate_hz, out_rate_hz).astype("<i2").tobytes())


class Framer:
    """Cuts a byte stream of arbitrary chunks into exact frames (default 20 ms at 16 kHz)."""

    __slots__ = ("_buf", "frame_bytes")

    def __init__(self, *, frame_bytes: int = FRAME_BYTES) -> None:
        if frame_bytes <= 0 or frame_bytes % 2:
            raise ValueError("frame_bytes must be a positive even number")
        self.frame_bytes = frame_bytes
        self._buf = bytearray()

    def push(self, chunk: bytes) -> Iterator[bytes]:
        """Add ``chunk``; yield every complete frame now available."""
        self._buf += chunk
        n = self.frame_bytes
        whole = len(self._buf) // n * n
        if not whole:
            return
        data = bytes(self._buf[:whole])
        del self._buf[:whole]
        for i in range(0, whole, n):
            yield data[i : i + n]

    def flush(self) -> bytes | None:
        """The remainder padded with silence to a full frame, or None if nothing is left."""
        if not self._buf:
            return None
        frame = bytes(self._buf) + bytes(self.frame_bytes - len(self._buf))
        self._buf.clear()
        return frame

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)


def pcm_to_wav(pcm: bytes, *, sample_rate_hz: int = SAMPLE_RATE_HZ, channels: int = 1) -> bytes:
    """Wrap interleaved PCM16 in a WAV container."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(sample_rate_hz)
        w.writeframes(pcm)
    return out.getvalue()


def wav_to_pcm(data: bytes) -> tuple[bytes, int, int]:
    """Read a PCM16 WAV: (interleaved PCM, sample rate Hz, channels)."""
    with wave.open(io.BytesIO(data), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"expected 16-bit WAV, got {8 * w.getsampwidth()}-bit")
        return w.readframes(w.getnframes()), w.getframerate(), w.getnchannels()


def stereo_channels(pcm: bytes) -> tuple[bytes, bytes]:
    """Split interleaved stereo PCM16 into (left, right)."""
    x = np.frombuffer(pcm, dtype="<i2")
    return x[0::2].tobytes(), x[1::2].tobytes()


def rms(pcm: bytes) -> float:
    """Root-mean-square level of PCM16 (0 for empty input)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0
