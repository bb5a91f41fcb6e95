"""RTP (RFC 3550) for one call: G.711 at 8 kHz on the wire, 20 ms frames of 16 kHz PCM16
for the platform. The session latches onto the address the remote actually sends from
(symmetric RTP), so calls behind NAT work."""

from __future__ import annotations

import asyncio
import logging
import random
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from callwright.media.audio import (
    Framer,
    StreamResampler,
    alaw_to_pcm16,
    pcm16_to_alaw,
    pcm16_to_ulaw,
    ulaw_to_pcm16,
)
from callwright.providers.base import FRAME_BYTES, SAMPLE_RATE_HZ
from callwright.sip.dtmf import DtmfDetector, event_payload
from callwright.sip.jitter import JitterBuffer
from callwright.sip.sdp import PCMA, PCMU

log = logging.getLogger(__name__)

WIRE_RATE_HZ = 8_000
SAMPLES_PER_FRAME = 160  # 20 ms at 8 kHz
MAX_QUEUED_FRAMES = 500  # 10 s of caller audio; older frames are dropped if nobody reads
FLUSH_AFTER_S = 0.06  # release held packets when the stream pauses this long
_HEADER = struct.Struct("!BBHII")
_DECODE = {PCMU: ulaw_to_pcm16, PCMA: alaw_to_pcm16}
_ENCODE = {PCMU: pcm16_to_ulaw, PCMA: pcm16_to_alaw}
_SILENCE = {PCMU: b"\xff" * SAMPLES_PER_FRAME, PCMA: b"\xd5" * SAMPLES_PER_FRAME}


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    marker: bool
    payload: bytes

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket | None:
        if len(data) < 12 or data[0] >> 6 != 2:
            return None
        b0, b1, seq, ts, ssrc = _HEADER.unpack_from(data)
        start = 12 + 4 * (b0 & 0x0F)
        if b0 & 0x10:  # header extension
            if len(data) < start + 4:
                return None
            start += 4 + 4 * struct.unpack_from("!H", data, start + 2)[0]
        end = len(data)
        if b0 & 0x20 and end > start:  # padding
            end -= data[-1]
        if end < start:
            return None
        return cls(b1 & 0x7F, seq, ts, ssrc, bool(b1 & 0x80), data[start:end])

    def pack(self) -> bytes:
        b1 = (0x80 if self.marker else 0) | self.payload_type
        return _HEADER.pack(0x80, b1, self.seq, self.timestamp, self.ssrc) + self.payload


@dataclass(slots=True)
class RtpStats:
    sent: int = 0
    received: int = 0
    send_times: list[float] | None = None  # monotonic send times, when a bench asks for them


class RtpSession(asyncio.DatagramProtocol):
    """One call's media. ``send`` encodes and sends at once; ``receive`` yields caller frames."""

    def __init__(
        self,
        *,
        codec_pt: int = PCMU,
        event_pt: int | None = None,
        on_dtmf: Callable[[str], None] | None = None,
        record_send_times: bool = False,
    ) -> None:
        self.codec_pt = codec_pt
        self.event_pt = event_pt
        self.remote: tuple[str, int] | None = None
        self.sending = True  # False while the remote holds the call
        self.stats = RtpStats(send_times=[] if record_send_times else None)
        self.on_dtmf = on_dtmf
        self._transport: asyncio.DatagramTransport | None = None
        self._latched = False
        self._ssrc = random.getrandbits(32)
        self._seq = random.getrandbits(16)
        self._ts = random.getrandbits(32)
        self._last_send: float | None = None
        self._down = StreamResampler(
            in_rate_hz=SAMPLE_RATE_HZ, out_rate_hz=WIRE_RATE_HZ, quality="QQ"
        )
        self._up = StreamResampler(
            in_rate_hz=WIRE_RATE_HZ, out_rate_hz=SAMPLE_RATE_HZ, quality="QQ"
        )
        self._wire = Framer(frame_bytes=SAMPLES_PER_FRAME * 2)
        self._framer = Framer(frame_bytes=FRAME_BYTES)
        self._jitter = JitterBuffer()
        self._dtmf = DtmfDetector()
        self._frames: deque[bytes | None] = deque()
        self._ready = asyncio.Event()
        self._flush_timer: asyncio.TimerHandle | None = None
        self._closed = False

    # ------------------------------------------------------------------ lifecycle

    @property
    def local_port(self) -> int:
        assert self._transport is not None
        port: int = self._transport.get_extra_info("sockname")[1]
        return port

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # CPython's selector datagram transport does not subclass DatagramTransport
        self._transport = cast(asyncio.DatagramTransport, transport)

    def set_remote(self, host: str, port: int, *, codec_pt: int, event_pt: int | None) -> None:
        """Where to send, from the remote SDP (re-INVITEs may change it)."""
        self.remote = (host, port)
        self._latched = False
        if codec_pt != self.codec_pt:
            self.codec_pt = codec_pt
        self.event_pt = event_pt

    def close(self) -> None:
        """Stop media: the socket closes and :meth:`receive` returns ``None``. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._flush_timer is not None:
            self._flush_timer.cancel()
        if self._transport is not None:
            self._transport.close()
        self._frames.append(None)
        self._ready.set()

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ sending

    def send(self, frame: bytes) -> None:
        if self._closed or not self.sending or self.remote is None or self._transport is None:
            return
        now = time.monotonic()
        marker = False
        if self._last_send is None or now - self._last_send > 0.06:
            # a new talk spurt: the timestamp follows the wall clock across the silence
            marker = True
            if self._last_send is not None:
                gap = int((now - self._last_send) * WIRE_RATE_HZ) // SAMPLES_PER_FRAME
                self._ts = (self._ts + gap * SAMPLES_PER_FRAME) & 0xFFFFFFFF
        self._last_send = now
        for chunk in self._wire.push(self._down.process(frame)):
            self._emit(_ENCODE[self.codec_pt](chunk), marker=marker, pt=self.codec_pt)
            self._ts = (self._ts + SAMPLES_PER_FRAME) & 0xFFFFFFFF
            marker = False
        if self.stats.send_times is not None:
            self.stats.send_times.append(now)

    def _emit(self, payload: bytes, *, marker: bool, pt: int, ts: int | None = None) -> None:
        assert self._transport is not None and self.remote is not None
        packet = RtpPacket(
            pt, self._seq, self._ts if ts is None else ts, self._ssrc, marker, payload
        )
        self._seq = (self._seq + 1) & 0xFFFF
        self._transport.sendto(packet.pack(), self.remote)
        self.stats.sent += 1

    async def send_dtmf(self, digit: str, *, duration_ms: int = 100) -> None:
        """Send one digit as RFC 4733 events (paced 20 ms apart, three end packets)."""
        if self.event_pt is None or self.remote is None or self._closed:
            raise RuntimeError("the remote did not offer telephone-event")
        ts = self._ts
        steps = max(1, duration_ms // 20)
        for i in range(1, steps + 1):
            end = i == steps
            payload = event_payload(digit, end=end, duration=i * SAMPLES_PER_FRAME)
            for _ in range(3 if end else 1):
                if self._closed:
                    return
                self._emit(payload, marker=i == 1, pt=self.event_pt, ts=ts)
            await asyncio.sleep(0.02)
        self._ts = (ts + steps * SAMPLES_PER_FRAME) & 0xFFFFFFFF

    # ------------------------------------------------------------------ receiving

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._closed:
            return
        packet = RtpPacket.parse(data)
        if packet is None:
            return
        if not self._latched and packet.payload_type in (self.codec_pt, self.event_pt):
            self.remote, self._latched = (addr[0], addr[1]), True
        self.stats.received += 1
        if packet.payload_type == self.event_pt and self.event_pt is not None:
            digit = self._dtmf.feed(packet.timestamp, packet.payload)
            if digit is not None and self.on_dtmf is not None:
                self.on_dtmf(digit)
            return
        if packet.payload_type not in _DECODE:
            return
        for payload in self._jitter.push(packet.seq, packet.payload):
            self._play(payload, packet.payload_type)
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self._jitter.holding:
            loop = asyncio.get_running_loop()
            self._flush_timer = loop.call_later(FLUSH_AFTER_S, self._flush, packet.payload_type)

    def _flush(self, pt: int) -> None:
        self._flush_timer = None
        for payload in self._jitter.flush():
            self._play(payload, pt)

    def _play(self, payload: bytes | None, pt: int) -> None:
        pcm = _DECODE[pt](payload if payload is not None else _SILENCE[pt])
        for frame in self._framer.push(self._up.process(pcm)):
            if len(self._frames) >= MAX_QUEUED_FRAMES:
                self._frames.popleft()
            self._frames.append(frame)
        self._ready.set()

    async def receive(self) -> bytes | None:
        while not self._frames:
            self._ready.clear()
            await self._ready.wait()
        frame = self._frames.popleft()
        if frame is None:
            self._frames.append(None)  # every later receive also sees the end
        return frame

    def error_received(self, exc: Exception) -> None:
        log.debug("RTP socket error: %s", exc)  # ICMP unreachable while the peer starts up
