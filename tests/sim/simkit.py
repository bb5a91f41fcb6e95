"""Test helpers for the simulated network: an "agent side" that plays and records audio on
a sim MediaStream the way a call session does (20 ms frames on an absolute schedule)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from callwright.media.audio import rms
from callwright.providers.base import FRAME_BYTES, MediaStream, TextToSpeech

AUDIBLE_RMS = 300.0


async def synthesize(tts: TextToSpeech, text: str) -> bytes:
    pcm = bytearray()
    async for chunk in tts.synthesize(text):
        pcm += chunk
    return bytes(pcm)


@dataclass
class AgentSide:
    """Plays PCM into a stream on a 20 ms schedule and records every frame received."""

    stream: MediaStream
    received: list[tuple[float, bytes]] = field(default_factory=list)
    sent_until: float = 0.0
    ended_at: float | None = None
    last_loud: float = 0.0  # when the last audible frame arrived
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def play(self, pcm: bytes) -> None:
        pcm += bytes((-len(pcm)) % FRAME_BYTES)
        start = time.monotonic()
        for i in range(0, len(pcm), FRAME_BYTES):
            delay = start + (i // FRAME_BYTES) * 0.02 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.stream.send(pcm[i : i + FRAME_BYTES])
        self.sent_until = time.monotonic()

    async def listen(self) -> None:
        """Record frames until the far end hangs up."""
        while (frame := await self.stream.receive()) is not None:
            now = time.monotonic()
            self.received.append((now, frame))
            if rms(frame) > AUDIBLE_RMS:
                self.last_loud = now
            self._arrived.set()
        self.ended_at = time.monotonic()
        self._arrived.set()

    async def wait_for_answer(self, *, after: float, quiet_s: float, timeout_s: float) -> None:
        """Wait until the far end has said something after ``after`` and then been quiet
        ``quiet_s`` (or hung up)."""
        async with asyncio.timeout(timeout_s):
            while self.ended_at is None:
                self._arrived.clear()
                await self._arrived.wait()
                if self.last_loud > after and time.monotonic() - self.last_loud >= quiet_s:
                    return

    def audio(self, since: float = 0.0) -> bytes:
        return b"".join(f for t, f in self.received if t >= since)
