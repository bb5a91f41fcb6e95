"""RFC 4733 telephone events: DTMF digits carried in RTP."""

from __future__ import annotations

import struct
from dataclasses import dataclass

DIGITS = "0123456789*#ABCD"


@dataclass(frozen=True, slots=True)
class Event:
    digit: str
    end: bool
    volume: int
    duration: int  # in timestamp units (8 kHz samples)


def parse_event(payload: bytes) -> Event | None:
    """One telephone-event payload; ``None`` for events that are not DTMF or short payloads."""
    if len(payload) < 4:
        return None
    code, flags, duration = struct.unpack("!BBH", payload[:4])
    if code >= len(DIGITS):
        return None
    return Event(DIGITS[code], bool(flags & 0x80), flags & 0x3F, duration)


def event_payload(digit: str, *, end: bool, duration: int, volume: int = 10) -> bytes:
    code = DIGITS.index(digit.upper())
    return struct.pack("!BBH", code, (0x80 if end else 0) | (volume & 0x3F), duration)


class DtmfDetector:
    """Turns the packets of each event into one digit: an event is one RTP timestamp, sent
    several times (updates, then three end packets); a digit is reported once, on the
    first packet of its timestamp."""

    __slots__ = ("_last_ts",)

    def __init__(self) -> None:
        self._last_ts: int | None = None

    def feed(self, timestamp: int, payload: bytes) -> str | None:
        event = parse_event(payload)
        if event is None or timestamp == self._last_ts:
            return None
        self._last_ts = timestamp
        return event.digit
