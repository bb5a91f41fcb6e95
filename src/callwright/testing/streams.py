"""An in-process phone line for tests: the agent's :class:`MediaStream` and the caller's end.

The caller end behaves like a phone: it sends a 20 ms frame every 20 ms on an absolute
schedule (speech it was asked to say, else silence) and plays what the agent sent from a
playout buffer, one frame per 20 ms; ``clear`` empties that buffer (Twilio's ``clear``).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from callwright.providers.base import FRAME_BYTES, FRAME_MS

_SILENCE = bytes(FRAME_BYTES)


class LoopbackStream:
    """The agent side of a loopback line (satisfies ``MediaStream``)."""

    def __init__(self, caller: CallerEnd) -> None:
        self._caller = caller
        self.inbound: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.hung_up = False

    async def receive(self) -> bytes | None:
        return await self.inbound.get()

    def send(self, frame: bytes) -> None:
        self._caller.on_agent_frame(frame)

    def clear(self) -> None:
        self._caller.on_clear()

    async def hangup(self) -> None:
        if not self.hung_up:
            self.hung_up = True
            self._caller.on_agent_hangup()


class CallerEnd:
    """The scripted caller's phone. Use :meth:`connected` to run its 20 ms pump."""

    def __init__(self) -> None:
        self.stream = LoopbackStream(self)
        self._speech: deque[bytes] = deque()
        self._speech_done: deque[tuple[int, asyncio.Future[None]]] = deque()
        self._frames_queued = 0
        self._frames_sent = 0
        self._playout: deque[bytes] = deque()
        self.received: list[tuple[float, bytes]] = []  # agent frames as they arrived
        self.played: list[tuple[float, bytes]] = []  # agent frames as the caller heard them
        self.clears: list[float] = []
        self.speech_onsets: list[float] = []  # when each say() started to be sent
        self.last_speech_end_s = 0.0  # when the last frame of the last say() was sent
        self.agent_hung_up = asyncio.Event()
        self.hung_up = False

    # -- driven by the agent side
    def on_agent_frame(self, frame: bytes) -> None:
        self.received.append((time.monotonic(), frame))
        self._playout.append(frame)

    def on_clear(self) -> None:
        self.clears.append(time.monotonic())
        self._playout.clear()

    def on_agent_hangup(self) -> None:
        self.agent_hung_up.set()

    # -- the caller's actions
    async def say(self, pcm: bytes) -> None:
        """Speak ``pcm`` (16 kHz PCM16); returns once the last frame has been sent."""
        frames = [
            pcm[i : i + FRAME_BYTES].ljust(FRAME_BYTES, b"\0")
            for i in range(0, len(pcm), FRAME_BYTES)
        ]
        if not frames:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._speech.extend(frames)
        self._frames_queued += len(frames)
        self._speech_done.append((self._frames_queued, done))
        await done

    def hang_up(self) -> None:
        """Hang up: the agent's ``receive`` returns None."""
        if not self.hung_up:
            self.hung_up = True
            self.stream.inbound.put_nowait(None)

    def last_heard_s(self) -> float | None:
        return self.played[-1][0] if self.played else None

    def heard_since(self, t_s: float) -> int:
        return sum(1 for t, _ in self.played if t >= t_s)

    async def wait_agent_quiet(
        self, *, quiet_s: float = 0.3, timeout_s: float = 15.0, after_s: float | None = None
    ) -> bool:
        """Wait until the agent has spoken since ``after_s`` (default: the end of the
        caller's last utterance) and then been quiet for ``quiet_s``."""
        start = self.last_speech_end_s if after_s is None else after_s
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.agent_hung_up.is_set():
            last = self.received[-1][0] if self.received else None
            if last is not None and last >= start and time.monotonic() - last >= quiet_s:
                return True
            await asyncio.sleep(0.02)
        return False

    # -- the pump
    async def _pump(self) -> None:
        period = FRAME_MS / 1000.0
        t0 = time.monotonic()
        k = 0
        inbound = self.stream.inbound
        while not self.hung_up:
            if self._speech:
                if self._frames_sent == 0 or not self._was_speaking:
                    self.speech_onsets.append(time.monotonic())
                frame = self._speech.popleft()
                self._frames_sent += 1
                self._was_speaking = True
                while self._speech_done and self._speech_done[0][0] <= self._frames_sent:
                    self.last_speech_end_s = time.monotonic()
                    fut = self._speech_done.popleft()[1]
                    if not fut.done():
                        fut.set_result(None)
            else:
                frame = _SILENCE
                self._was_speaking = False
            inbound.put_nowait(frame)
            if self._playout:
                self.played.append((time.monotonic(), self._playout.popleft()))
            k += 1
            delay = t0 + k * period - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    _was_speaking = False

    @asynccontextmanager
    async def connected(self) -> AsyncIterator[CallerEnd]:
        """Run the caller's pump for the duration of the block."""
        task = asyncio.create_task(self._pump(), name="caller-pump")
        try:
            yield self
        finally:
            task.cancel()
            await asyncio.wait([task])


FakeMediaStream = LoopbackStream  # the agent side of CallerEnd's line; build via CallerEnd()
