"""The JSON messages of a bidirectional Twilio Media Stream (``<Connect><Stream>``).

Wire format, from https://www.twilio.com/docs/voice/media-streams/websocket-messages:

Twilio → us (text frames, each with an ``event`` discriminator; all but ``connected`` carry
``sequenceNumber`` and ``streamSid``)::

    {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    {"event": "start", "sequenceNumber": "1", "streamSid": "MZ…",
     "start": {"streamSid": "MZ…", "accountSid": "AC…", "callSid": "CA…",
               "tracks": ["inbound"], "customParameters": {"token": "…"},
               "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}}
    {"event": "media", "media": {"track": "inbound", "chunk": "2", "timestamp": "20",
                                 "payload": "<base64 μ-law>"}, …}
    {"event": "mark", "mark": {"name": "…"}, …}     # our mark, echoed once played (or cleared)
    {"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": "7"}, …}
    {"event": "stop", "stop": {"accountSid": "AC…", "callSid": "CA…"}, …}

us → Twilio: ``media`` (``{"event": "media", "streamSid": …, "media": {"payload": …}}``,
base64 μ-law 8 kHz, no headers), ``mark`` (``{"event": "mark", "streamSid": …,
"mark": {"name": …}}``) and ``clear`` (``{"event": "clear", "streamSid": …}``), which drops
the audio Twilio still buffers and makes it echo the marks that were waiting behind it.

Messages are parsed into frozen dataclasses; callers dispatch on their type.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

MULAW_ENCODING = "audio/x-mulaw"
MULAW_RATE_HZ = 8000


class MalformedMessage(ValueError):
    """A frame that is not a Media Streams message we understand."""


@dataclass(frozen=True, slots=True)
class Connected:
    protocol: str
    version: str


@dataclass(frozen=True, slots=True)
class Start:
    stream_sid: str
    account_sid: str
    call_sid: str
    tracks: tuple[str, ...]
    custom_parameters: dict[str, str] = field(default_factory=dict)
    encoding: str = MULAW_ENCODING
    sample_rate_hz: int = MULAW_RATE_HZ
    channels: int = 1


@dataclass(frozen=True, slots=True)
class Media:
    track: str
    payload: bytes  # μ-law bytes, already base64-decoded


@dataclass(frozen=True, slots=True)
class Mark:
    name: str


@dataclass(frozen=True, slots=True)
class Dtmf:
    digit: str


@dataclass(frozen=True, slots=True)
class Stop:
    call_sid: str


TwilioEvent = Connected | Start | Media | Mark | Dtmf | Stop


def _obj(message: dict[str, Any], key: str) -> dict[str, Any]:
    value = message.get(key)
    if not isinstance(value, dict):
        raise MalformedMessage(f"{message.get('event')!r} message without a {key!r} object")
    return value


def _str(obj: dict[str, Any], key: str, default: str | None = None) -> str:
    value = obj.get(key, default)
    if not isinstance(value, str):
        raise MalformedMessage(f"field {key!r} must be a string")
    return value


def parse_event(text: str) -> TwilioEvent | None:
    """Parse one text frame; None for an event we do not use. Raises MalformedMessage."""
    try:
        message = json.loads(text)
    except ValueError as exc:
        raise MalformedMessage("not JSON") from exc
    if not isinstance(message, dict):
        raise MalformedMessage("not a JSON object")
    match message.get("event"):
        case "connected":
            return Connected(_str(message, "protocol", ""), _str(message, "version", ""))
        case "start":
            return _start(_obj(message, "start"))
        case "media":
            media = _obj(message, "media")
            try:
                payload = base64.b64decode(_str(media, "payload"), validate=True)
            except binascii.Error as exc:
                raise MalformedMessage("media payload is not base64") from exc
            return Media(_str(media, "track", "inbound"), payload)
        case "mark":
            return Mark(_str(_obj(message, "mark"), "name"))
        case "dtmf":
            return Dtmf(_str(_obj(message, "dtmf"), "digit"))
        case "stop":
            stop = message.get("stop")
            return Stop(_str(stop, "callSid", "") if isinstance(stop, dict) else "")
        case str():
            return None
        case _:
            raise MalformedMessage("message without an 'event'")


def _start(start: dict[str, Any]) -> Start:
    params = start.get("customParameters") or {}
    fmt = start.get("mediaFormat") or {}
    tracks = start.get("tracks") or ["inbound"]
    if not isinstance(params, dict) or not isinstance(fmt, dict) or not isinstance(tracks, list):
        raise MalformedMessage("malformed 'start' metadata")
    try:
        rate_hz, channels = int(fmt.get("sampleRate", MULAW_RATE_HZ)), int(fmt.get("channels", 1))
    except (TypeError, ValueError) as exc:
        raise MalformedMessage("malformed 'mediaFormat'") from exc
    return Start(
        stream_sid=_str(start, "streamSid"),
        account_sid=_str(start, "accountSid", ""),
        call_sid=_str(start, "callSid", ""),
        tracks=tuple(str(t) for t in tracks),
        custom_parameters={str(k): str(v) for k, v in params.items()},
        encoding=str(fmt.get("encoding", MULAW_ENCODING)),
        sample_rate_hz=rate_hz,
        channels=channels,
    )


def media_message(stream_sid: str, ulaw: bytes) -> str:
    payload = base64.b64encode(ulaw).decode()
    return json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def mark_message(stream_sid: str, name: str) -> str:
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    return json.dumps({"event": "clear", "streamSid": stream_sid})
