"""One call's audio over a bidirectional Twilio Media Stream, as a :class:`MediaStream`.

Caller audio arrives as ``media`` messages of base64 μ-law 8 kHz (20 ms each); it is
decoded and resampled to 16 kHz, one 20 ms frame in, one out, for :meth:`receive` (the
phone line's codec, :mod:`callwright.sim.line`, shared with the simulated network). Agent frames
given to :meth:`send` go the other way and leave as 20 ms ``media`` messages. Every
``mark_every_frames`` frames, and when the agent falls silent, a ``mark`` follows the audio:
Twilio echoes it once the audio before it has played, so :attr:`played_frames` counts what
the caller has actually heard. :meth:`clear` sends ``clear`` (Twilio drops what it still
buffers and echoes the marks behind it at once; those do not count as played). DTMF
digits are collected in :attr:`received_dtmf` and :meth:`next_dtmf`. :meth:`hangup` waits
(bounded) for the last mark before closing the socket — closing ends the call at once, so
the caller hears the agent's last words before the line drops.

Message format: see :mod:`callwright.providers.telephony.twilio_messages`. The WebSocket
itself is behind :class:`TextSocket`, so this module needs no web framework; :meth:`run`
owns the reader and writer tasks and returns when the call's stream has ended.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from callwright.providers.base import FRAME_MS
from callwright.providers.telephony.twilio_messages import (
    Dtmf,
    MalformedMessage,
    Mark,
    Media,
    Start,
    Stop,
    clear_message,
    mark_message,
    media_message,
    parse_event,
)
from callwright.sim.line import PhoneDecoder, PhoneEncoder

log = logging.getLogger(__name__)

NORMAL_CLOSURE = 1000
POLICY_VIOLATION = 1008  # RFC 6455: a message that violates policy (a bad media token)
CLOSE_WAIT_S = 2.0  # after we close, how long the far end gets to finish the handshake


class TextSocket(Protocol):
    """The WebSocket as this module needs it (the route adapts Starlette's)."""

    async def receive_text(self) -> str | None:
        """The next text frame; None once the connection is closed."""
        ...

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int = NORMAL_CLOSURE, reason: str = "") -> None:
        """Close; harmless when already closed."""
        ...


@dataclass(frozen=True, slots=True)
class _Clear:
    pass


@dataclass(frozen=True, slots=True)
class _Close:
    drain: bool  # we hang up: let the caller hear what Twilio still buffers first


_Outgoing = bytes | _Clear | _Close  # bytes: 20 ms of μ-law


class TwilioMediaStream:
    """The platform's side of one Media Stream (satisfies ``MediaStream``)."""

    def __init__(
        self,
        *,
        socket: TextSocket,
        start: Start,
        mark_every_frames: int = 5,
        idle_mark_s: float = 0.06,
        drain_timeout_s: float = 3.0,
    ) -> None:
        self.stream_sid = start.stream_sid
        self.call_sid = start.call_sid
        self.custom_parameters = dict(start.custom_parameters)
        self._socket = socket
        self._mark_every = max(1, mark_every_frames)
        self._idle_mark_s = idle_mark_s
        self._drain_timeout_s = drain_timeout_s
        self._inbound: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._outbox: asyncio.Queue[_Outgoing] = asyncio.Queue()
        # The phone line's 2:1 filters: one frame in, one frame out, 1.5 ms delay (soxr's
        # streaming resampler would release audio in ~100 ms bursts).
        self._decoder = PhoneDecoder()
        self._encoder = PhoneEncoder()
        self._unmarked = 0  # frames written since the last mark
        self._marks: dict[str, int] = {}  # mark name -> frames it follows, awaiting the echo
        self._discarded: set[str] = set()  # marks whose audio a clear dropped
        self._mark_no = 0
        self._all_played = asyncio.Event()  # no mark awaits its echo
        self._all_played.set()
        self._dtmf: asyncio.Queue[str] = asyncio.Queue()
        self._done = asyncio.Event()
        self._eof = False
        self._running = False
        self.ended = False  # the far end hung up or we did
        self.ended_by: str | None = None  # "caller" | "agent"
        self.written_frames = 0  # agent frames handed to Twilio
        self.played_frames = 0  # agent frames Twilio confirmed played (by mark)
        self.clears = 0
        self.received_dtmf: list[str] = []

    # ------------------------------------------------------------------ MediaStream

    async def receive(self) -> bytes | None:
        if self._eof:
            return None
        frame = await self._inbound.get()
        self._eof = frame is None  # every later receive() sees the end too
        return frame

    def send(self, frame: bytes) -> None:
        if self.ended:
            return
        for ulaw in self._encoder.encode(frame):
            self._outbox.put_nowait(ulaw)

    def clear(self) -> None:
        if self.ended:
            return
        kept = [item for item in self._drain_outbox() if not isinstance(item, bytes)]
        for item in kept:
            self._outbox.put_nowait(item)
        # Restart the line encoder: no tail of the dropped audio leaks into the next reply.
        self._encoder = PhoneEncoder()
        self._outbox.put_nowait(_Clear())

    async def hangup(self) -> None:
        if self.ended:
            return
        self._end("agent")
        if not self._running:
            await self._socket.close(NORMAL_CLOSURE, "call ended")
            return
        self._outbox.put_nowait(_Close(drain=True))
        try:
            await asyncio.wait_for(self._done.wait(), self._drain_timeout_s + CLOSE_WAIT_S * 2)
        except TimeoutError:
            log.warning("twilio stream %s did not close in time", self.stream_sid)

    # ------------------------------------------------------------------ extras

    @property
    def played_ms(self) -> int:
        """Agent audio the caller has heard, by Twilio's marks (granularity: one mark)."""
        return self.played_frames * FRAME_MS

    async def next_dtmf(self) -> str:
        """Wait for the caller's next key press."""
        return await self._dtmf.get()

    # ------------------------------------------------------------------ the pump

    async def run(self) -> None:
        """Carry the stream until Twilio stops it or we hang up; owns its two tasks."""
        self._running = True
        try:
            async with asyncio.TaskGroup() as tg:
                reader = tg.create_task(self._read(), name=f"twilio-read-{self.stream_sid}")
                tg.create_task(self._write(reader), name=f"twilio-write-{self.stream_sid}")
        finally:
            self._end("caller")
            self._done.set()

    async def _read(self) -> None:
        try:
            while (text := await self._socket.receive_text()) is not None:
                try:
                    event = parse_event(text)
                except MalformedMessage as exc:
                    log.warning("twilio stream %s: ignored a message: %s", self.stream_sid, exc)
                    continue
                match event:
                    case Media(payload=payload) if not self.ended:
                        for frame in self._decoder.decode(payload):
                            self._inbound.put_nowait(frame)
                    case Mark(name=name):
                        self._on_mark(name)
                    case Dtmf(digit=digit):
                        self.received_dtmf.append(digit)
                        self._dtmf.put_nowait(digit)
                    case Stop():
                        break
        finally:
            self._end("caller")
            self._all_played.set()  # nothing more will be played or echoed
            self._outbox.put_nowait(_Close(drain=False))

    async def _write(self, reader: asyncio.Task[None]) -> None:
        try:
            while True:
                try:
                    if self._unmarked:
                        item = await asyncio.wait_for(self._outbox.get(), self._idle_mark_s)
                    else:
                        item = await self._outbox.get()
                except TimeoutError:  # the agent fell silent: mark the end of what it said
                    await self._send_mark()
                    continue
                match item:
                    case bytes():
                        await self._send_media(item)
                        if self._unmarked >= self._mark_every:
                            await self._send_mark()
                    case _Clear():
                        self._discarded.update(self._marks)
                        self._marks.clear()
                        self._all_played.set()
                        self._unmarked = 0
                        self.clears += 1
                        await self._socket.send_text(clear_message(self.stream_sid))
                    case _Close(drain=drain):
                        if drain:
                            await self._drain()
                        break
        except Exception as exc:  # the socket went away under us: the reader sees it too
            log.info("twilio stream %s: write stopped: %s", self.stream_sid, exc)
        await self._socket.close(NORMAL_CLOSURE, "call ended")
        done, _ = await asyncio.wait({reader}, timeout=CLOSE_WAIT_S)
        if not done:
            reader.cancel()

    async def _send_media(self, ulaw: bytes) -> None:
        await self._socket.send_text(media_message(self.stream_sid, ulaw))
        self.written_frames += 1
        self._unmarked += 1

    async def _send_mark(self) -> None:
        if not self._unmarked:
            return
        self._mark_no += 1
        name = f"cw-{self._mark_no}"
        self._marks[name] = self._unmarked
        self._unmarked = 0
        self._all_played.clear()
        await self._socket.send_text(mark_message(self.stream_sid, name))

    async def _drain(self) -> None:
        """Wait (bounded) until Twilio has played everything we sent: closing the socket
        ends the call at once, and audio still in Twilio's buffer would be lost."""
        await self._send_mark()
        try:
            await asyncio.wait_for(self._all_played.wait(), self._drain_timeout_s)
        except TimeoutError:
            log.info("twilio stream %s: hung up before playback ended", self.stream_sid)

    def _on_mark(self, name: str) -> None:
        if name in self._discarded:
            self._discarded.discard(name)
            return
        frames = self._marks.pop(name, None)
        if frames is not None:
            self.played_frames += frames
        if not self._marks:
            self._all_played.set()

    def _end(self, by: str) -> None:
        if not self.ended:
            self.ended = True
            self.ended_by = by
            self._inbound.put_nowait(None)

    def _drain_outbox(self) -> list[_Outgoing]:
        items: list[_Outgoing] = []
        while not self._outbox.empty():
            items.append(self._outbox.get_nowait())
        return items
