"""One connected call on the simulated network, carried like a real carrier carries it.

The agent's end is a :class:`~callwright.providers.base.MediaStream` of 20 ms 16 kHz PCM
frames. Between the two ends the audio goes 16 kHz → 8 kHz → G.711 μ-law (160-byte frames)
→ 8 kHz → 16 kHz, in both directions. The callee's end (:class:`Handset`) is driven by the
callee's clock: each 20 ms tick it takes one μ-law frame the agent sent (as a carrier plays
buffered audio out in real time) and puts one frame of its own on the line.

``clear()`` drops agent audio still waiting to be played to the callee (Twilio's ``clear``);
either side hanging up closes the line: the agent's ``receive()`` returns None and the
callee's ticks see ``closed``.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

import numpy as np
import numpy.typing as npt

from callwright.media.audio import Framer, pcm16_to_ulaw, rms, ulaw_to_pcm16
from callwright.providers.base import FRAME_BYTES, SAMPLE_RATE_HZ

PHONE_RATE_HZ = 8_000
PHONE_FRAME_BYTES = PHONE_RATE_HZ * 20 // 1000  # one μ-law byte per sample: 160

HangupHook = Callable[[str], Awaitable[None]]

_TAPS = 48
_CUTOFF = 3_700 / SAMPLE_RATE_HZ  # telephone band edge, in cycles per 16 kHz sample


def _lowpass_taps() -> npt.NDArray[np.float64]:
    n = np.arange(_TAPS) - (_TAPS - 1) / 2
    taps = 2 * _CUTOFF * np.sinc(2 * _CUTOFF * n) * np.blackman(_TAPS)
    normalised: npt.NDArray[np.float64] = taps / taps.sum()
    return normalised


class _HalfBand:
    """Stateful 2:1 FIR resampler between 16 kHz and 8 kHz, one 20 ms frame in, one out.

    soxr's streaming resampler (media.audio.StreamResampler) releases output in ~100 ms
    blocks; a phone line must deliver every 20 ms frame on time, so the line uses this
    short windowed-sinc filter instead (1.5 ms delay, ~-50 dB above 4 kHz).
    """

    def __init__(self) -> None:
        self._taps = _lowpass_taps()
        self._tail = np.zeros(_TAPS - 1)

    def _filter(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        padded = np.concatenate([self._tail, x])
        self._tail = padded[-(_TAPS - 1) :]
        return np.convolve(padded, self._taps, mode="valid")

    def down(self, pcm16k: bytes) -> bytes:
        """16 kHz PCM16 with an even number of samples → 8 kHz PCM16."""
        x = np.frombuffer(pcm16k, dtype="<i2").astype(np.float64)
        return _to_pcm(self._filter(x)[::2])

    def up(self, pcm8k: bytes) -> bytes:
        """8 kHz PCM16 → 16 kHz PCM16 (zero-stuffed, then filtered)."""
        x = np.frombuffer(pcm8k, dtype="<i2").astype(np.float64)
        stuffed = np.zeros(2 * x.size)
        stuffed[::2] = 2 * x
        return _to_pcm(self._filter(stuffed))


def _to_pcm(x: npt.NDArray[np.float64]) -> bytes:
    return bytes(np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes())


class PhoneEncoder:
    """16 kHz PCM16 → 160-byte 8 kHz μ-law frames (what a carrier puts on the wire)."""

    def __init__(self) -> None:
        self._band = _HalfBand()
        self._framer = Framer(frame_bytes=FRAME_BYTES)

    def encode(self, pcm16k: bytes) -> list[bytes]:
        return [pcm16_to_ulaw(self._band.down(f)) for f in self._framer.push(pcm16k)]


class PhoneDecoder:
    """160-byte 8 kHz μ-law frames → 20 ms 16 kHz PCM16 frames, one in, one out."""

    def __init__(self) -> None:
        self._band = _HalfBand()
        self._framer = Framer(frame_bytes=2 * PHONE_FRAME_BYTES)

    def decode(self, ulaw: bytes) -> list[bytes]:
        return [self._band.up(f) for f in self._framer.push(ulaw_to_pcm16(ulaw))]


def ulaw_rms(ulaw: bytes) -> float:
    """RMS level (PCM16 units) of one μ-law frame: what the callee's ear measures."""
    return rms(ulaw_to_pcm16(ulaw))


class SimLine:
    """Both ends of one connected call. ``on_hangup(by)`` runs once, when the line closes."""

    def __init__(self, *, on_hangup: HangupHook | None = None) -> None:
        self._to_callee: deque[bytes] = deque()  # μ-law frames waiting to be played out
        self._to_agent: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._on_hangup = on_hangup
        self._closed = asyncio.Event()
        self._released: asyncio.Future[None] | None = None  # the hang-up hook, run once
        self.hung_up_by: str | None = None
        self.clear_times_mono: list[float] = []
        self.agent = AgentEnd(self)
        self.handset = Handset(self)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    async def close(self, *, by: str) -> None:
        """Hang up (idempotent: the first side to hang up is recorded). Returns once the
        network has released the line, for whichever side calls it: a platform that hangs up
        after the callee did must not take the line for free before the network logged it
        free (the dial log would show one line more than the platform's cap)."""
        if self._released is None:
            self.hung_up_by = by
            self._closed.set()
            self._to_callee.clear()
            self._to_agent.put_nowait(None)
            hook = self._on_hangup
            self._released = asyncio.ensure_future(hook(by) if hook else asyncio.sleep(0))
        await asyncio.shield(self._released)


class AgentEnd:
    """The platform's side: a :class:`MediaStream`."""

    def __init__(self, line: SimLine) -> None:
        self._line = line
        self._encoder = PhoneEncoder()
        self._decoder = PhoneDecoder()
        self._ready: deque[bytes] = deque()

    async def receive(self) -> bytes | None:
        while not self._ready:
            ulaw = await self._line._to_agent.get()
            if ulaw is None:
                self._line._to_agent.put_nowait(None)  # every later receive() sees the end too
                return None
            self._ready.extend(self._decoder.decode(ulaw))
        return self._ready.popleft()

    def send(self, frame: bytes) -> None:
        if self._line.closed:
            return
        self._line._to_callee.extend(self._encoder.encode(frame))

    def clear(self) -> None:
        self._line.clear_times_mono.append(time.monotonic())
        self._line._to_callee.clear()

    async def hangup(self) -> None:
        await self._line.close(by="agent")


class Handset:
    """The callee's side, driven by the callee's 20 ms clock."""

    def __init__(self, line: SimLine) -> None:
        self._line = line
        self._encoder = PhoneEncoder()
        self._decoder = PhoneDecoder()

    @property
    def closed(self) -> bool:
        return self._line.closed

    @property
    def hung_up_by(self) -> str | None:
        return self._line.hung_up_by

    def hear(self) -> bytes | None:
        """The μ-law frame playing out now, or None when the agent sent nothing (silence)."""
        return self._line._to_callee.popleft() if self._line._to_callee else None

    def decode(self, ulaw: bytes) -> list[bytes]:
        """Turn heard μ-law into 16 kHz frames for the callee's VAD/STT."""
        return self._decoder.decode(ulaw)

    def say(self, frame: bytes) -> None:
        """Put one 20 ms 16 kHz frame of the callee's voice on the line."""
        if self._line.closed:
            return
        for ulaw in self._encoder.encode(frame):
            self._line._to_agent.put_nowait(ulaw)

    async def hangup(self) -> None:
        await self._line.close(by="callee")
