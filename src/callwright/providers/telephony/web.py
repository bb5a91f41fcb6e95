"""Browser calls (``web``): a :class:`MediaStream` over one WebSocket.

The wire protocol, after the opening handshake that :mod:`callwright.services.web_calls`
does (a ``start`` message, answered by ``started``):

- browser → server, binary: mono PCM16 little-endian at the ``sample_rate_hz`` the browser
  announced (16 kHz from the dashboard and widget; 8-48 kHz accepted), any chunk size;
- browser → server, text: ``{"type": "hangup"}`` ends the call;
- server → browser, binary: 20 ms frames of 16 kHz PCM16 agent audio, sent as the call's
  media clock paces them (the browser plays what it receives, like a phone network);
- server → browser, text: ``{"type": "clear"}`` (barge-in: drop agent audio not yet played),
  ``{"type": "hangup"}`` (the agent ended the call), then the service's final message.

Audio is converted here, at the edge: other rates are resampled to 16 kHz and cut into
20 ms frames before the call session sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from callwright.media.audio import Framer, StreamResampler
from callwright.providers.base import SAMPLE_RATE_HZ

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64_000  # one message is at most ~2 s of 16 kHz audio
INBOUND_QUEUE_FRAMES = 500  # 10 s of caller audio; beyond that the oldest frames are dropped
SAMPLE_RATES_HZ = (8_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000)

_CLEAR = '{"type": "clear"}'
_HANGUP = '{"type": "hangup"}'  # the last message the writer sends


class ProtocolError(Exception):
    """The browser broke the wire protocol (the message says how)."""


class WebSocketStream:
    """One browser call's audio. Run :meth:`serve` in a task for as long as the call lasts:
    it reads caller audio into :meth:`receive` and writes what :meth:`send` hands it."""

    def __init__(self, *, websocket: WebSocket, sample_rate_hz: int = SAMPLE_RATE_HZ) -> None:
        if sample_rate_hz not in SAMPLE_RATES_HZ:
            raise ProtocolError(f"sample_rate_hz must be one of {list(SAMPLE_RATES_HZ)}")
        self._ws = websocket
        self._resampler = (
            None
            if sample_rate_hz == SAMPLE_RATE_HZ
            else StreamResampler(in_rate_hz=sample_rate_hz, out_rate_hz=SAMPLE_RATE_HZ)
        )
        self._framer = Framer()
        self._odd = b""  # a trailing half sample, kept for the next message
        self._inbound: asyncio.Queue[bytes | None] = asyncio.Queue()
        # audio frames (bytes) and JSON text messages (str), in the order they go out
        self._outbound: asyncio.Queue[bytes | str] = asyncio.Queue()
        self._caller_gone = False
        self._hung_up = False
        self._inbound_ended = False
        self.frames_in = 0
        self.frames_out = 0
        self.error: str | None = None  # set when the browser broke the protocol

    # ------------------------------------------------------------------ MediaStream

    async def receive(self) -> bytes | None:
        return await self._inbound.get()

    def send(self, frame: bytes) -> None:
        if not self._hung_up and not self._caller_gone:
            self._outbound.put_nowait(frame)

    def clear(self) -> None:
        kept = []
        while not self._outbound.empty():
            item = self._outbound.get_nowait()
            if isinstance(item, str):
                kept.append(item)  # messages stay; only unplayed audio goes
        for item in kept:
            self._outbound.put_nowait(item)
        if not self._hung_up and not self._caller_gone:
            self._outbound.put_nowait(_CLEAR)

    async def hangup(self) -> None:
        if self._hung_up:
            return
        self._hung_up = True
        self._outbound.put_nowait(_HANGUP)
        self._end_inbound()

    def notify(self, message: dict[str, Any]) -> None:
        """Queue a JSON text message for the browser, in order with the audio."""
        if not self._hung_up and not self._caller_gone:
            self._outbound.put_nowait(json.dumps(message))

    # ------------------------------------------------------------------ running

    async def serve(self) -> None:
        """Pump both directions until the browser leaves or the call is hung up and drained."""
        writer = asyncio.create_task(self._write_loop(), name="webcall-writer")
        try:
            await self._read_loop()
        finally:
            self._end_inbound()
            if self._caller_gone:
                writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    async def close(self, final: dict[str, Any] | None = None, *, code: int = 1000) -> None:
        """Send ``final`` (if the browser is still there) and close the socket."""
        if self._ws.client_state is not WebSocketState.CONNECTED:
            return
        with contextlib.suppress(Exception):  # the browser may leave at any moment
            if final is not None:
                await self._ws.send_text(json.dumps(final))
            await self._ws.close(code=code)

    async def _read_loop(self) -> None:
        while not self._hung_up:
            try:
                message = await self._ws.receive()
            except (WebSocketDisconnect, RuntimeError):
                break
            if message["type"] == "websocket.disconnect":
                break
            data: bytes | None = message.get("bytes")
            if data is not None:
                try:
                    self._on_audio(data)
                except ProtocolError as exc:
                    self.error = str(exc)
                    break
                continue
            text: str | None = message.get("text")
            if text is not None and _message_type(text) == "hangup":
                break
        self._caller_gone = not self._hung_up

    def _on_audio(self, data: bytes) -> None:
        if len(data) > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"audio messages are at most {MAX_MESSAGE_BYTES} bytes")
        data = self._odd + data
        cut = len(data) - len(data) % 2
        data, self._odd = data[:cut], data[cut:]
        if self._resampler is not None:
            data = self._resampler.process(data)
        for frame in self._framer.push(data):
            if self._inbound.qsize() >= INBOUND_QUEUE_FRAMES:
                self._inbound.get_nowait()  # the call fell behind: keep the newest audio
            self._inbound.put_nowait(frame)
            self.frames_in += 1

    async def _write_loop(self) -> None:
        while True:
            item = await self._outbound.get()
            try:
                if isinstance(item, str):
                    await self._ws.send_text(item)
                    if item is _HANGUP:
                        return
                else:
                    await self._ws.send_bytes(item)
                    self.frames_out += 1
            except (WebSocketDisconnect, RuntimeError, OSError):
                return  # the browser left; the read loop sees it too

    def _end_inbound(self) -> None:
        if not self._inbound_ended:
            self._inbound_ended = True
            self._inbound.put_nowait(None)


def _message_type(text: str) -> str | None:
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    return str(parsed.get("type")) if isinstance(parsed, dict) else None
