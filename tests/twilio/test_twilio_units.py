"""The Twilio pieces on their own: signatures, media tokens, messages, outcomes, the pump."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from callwright.providers.base import DialOutcome
from callwright.providers.telephony.twilio import outcome_of
from callwright.providers.telephony.twilio_gateway import CallStatus
from callwright.providers.telephony.twilio_messages import (
    Connected,
    Dtmf,
    MalformedMessage,
    Mark,
    Media,
    Start,
    Stop,
    parse_event,
)
from callwright.providers.telephony.twilio_signature import (
    MediaTokens,
    twilio_signature,
    valid_twilio_signature,
)
from callwright.providers.telephony.twilio_stream import TwilioMediaStream
from tests.twilio.conftest import tone_ulaw

# Twilio's published example (https://www.twilio.com/docs/usage/security#validating-requests).
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Caller", "+12349013030"),
    ("Digits", "1234"),
    ("From", "+12349013030"),
    ("To", "+18005551212"),
]
DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_signature_matches_twilios_published_example() -> None:
    assert twilio_signature("12345", DOC_URL, DOC_PARAMS) == DOC_SIGNATURE
    assert twilio_signature("12345", DOC_URL, reversed(DOC_PARAMS)) == DOC_SIGNATURE
    assert valid_twilio_signature("12345", DOC_URL, DOC_PARAMS, DOC_SIGNATURE)
    assert not valid_twilio_signature("12346", DOC_URL, DOC_PARAMS, DOC_SIGNATURE)
    assert not valid_twilio_signature("12345", DOC_URL + "&x=1", DOC_PARAMS, DOC_SIGNATURE)
    assert not valid_twilio_signature("12345", DOC_URL, DOC_PARAMS[1:], DOC_SIGNATURE)
    assert not valid_twilio_signature("12345", DOC_URL, DOC_PARAMS, None)
    assert not valid_twilio_signature("12345", DOC_URL, DOC_PARAMS, "é" + DOC_SIGNATURE)


def test_media_tokens_name_one_call_and_expire() -> None:
    tokens = MediaTokens(secret=b"k", lifetime_s=60)
    token = tokens.issue("call-1", now_s=1000)
    assert tokens.verify(token, now_s=1059) == "call-1"
    assert tokens.verify(token, now_s=1061) is None
    assert MediaTokens(secret=b"other").verify(token, now_s=1000) is None
    call_id, expires, signature = token.rsplit(".", 2)
    assert tokens.verify(f"call-2.{expires}.{signature}", now_s=1000) is None
    assert tokens.verify(f"{call_id}.{int(expires) + 100}.{signature}", now_s=1000) is None
    for junk in (None, "", ".", "..", "a.b.c", "x" * 600, "call-1.12.ü"):
        assert tokens.verify(junk, now_s=1000) is None


def test_messages_parse_as_twilio_documents_them() -> None:
    payload = base64.b64encode(b"\xff" * 160).decode()
    connected = {"event": "connected", "protocol": "Call", "version": "1.0.0"}
    start = {
        "event": "start",
        "sequenceNumber": "1",
        "start": {
            "accountSid": "AC1",
            "streamSid": "MZ1",
            "callSid": "CA1",
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"token": "t"},
        },
        "streamSid": "MZ1",
    }
    media = {
        "event": "media",
        "sequenceNumber": "3",
        "media": {"track": "inbound", "chunk": "1", "timestamp": "5", "payload": payload},
        "streamSid": "MZ1",
    }
    mark = {"event": "mark", "sequenceNumber": "4", "streamSid": "MZ1", "mark": {"name": "m"}}
    dtmf = {"event": "dtmf", "streamSid": "MZ1", "dtmf": {"track": "inbound_track", "digit": "1"}}
    stop = {"event": "stop", "streamSid": "MZ1", "stop": {"accountSid": "AC1", "callSid": "CA1"}}
    assert parse_event(json.dumps(connected)) == Connected("Call", "1.0.0")
    assert parse_event(json.dumps(start)) == Start(
        "MZ1", "AC1", "CA1", ("inbound",), {"token": "t"}
    )
    assert parse_event(json.dumps(media)) == Media("inbound", b"\xff" * 160)
    assert parse_event(json.dumps(mark)) == Mark("m")
    assert parse_event(json.dumps(dtmf)) == Dtmf("1")
    assert parse_event(json.dumps(stop)) == Stop("CA1")
    assert parse_event(json.dumps({"event": "something-new"})) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[1, 2]",
        '{"no": "event"}',
        '{"event": 5}',
        '{"event": "media"}',
        '{"event": "media", "media": {"payload": "***"}}',
        '{"event": "media", "media": {"payload": 7}}',
        '{"event": "start", "start": {"streamSid": "MZ", "mediaFormat": {"sampleRate": "x"}}}',
        '{"event": "start", "start": {"streamSid": "MZ", "tracks": "inbound"}}',
        '{"event": "start", "start": {}}',
        '{"event": "mark", "mark": {}}',
        '{"event": "dtmf", "dtmf": null}',
    ],
)
def test_malformed_messages_are_refused(text: str) -> None:
    with pytest.raises(MalformedMessage):
        parse_event(text)


@pytest.mark.parametrize(
    ("status", "sip", "outcome", "detail"),
    [
        ("busy", 486, DialOutcome.BUSY, "busy line"),
        ("busy", 603, DialOutcome.REJECTED, "rejected"),
        ("no-answer", 487, DialOutcome.NO_ANSWER, "no answer"),
        ("failed", 404, DialOutcome.FAILED, "failed (SIP 404)"),
        ("failed", None, DialOutcome.FAILED, "failed"),
        ("canceled", 487, DialOutcome.FAILED, "canceled"),
        ("completed", 200, DialOutcome.FAILED, "no media stream"),
    ],
)
def test_terminal_statuses_map_to_dial_outcomes(
    status: str, sip: int | None, outcome: DialOutcome, detail: str
) -> None:
    assert outcome_of(CallStatus(status, sip)) == (outcome, detail)


class ScriptedSocket:
    """A WebSocket that delivers ``incoming`` and records what is sent."""

    def __init__(self, incoming: list[str]) -> None:
        self.incoming = asyncio.Queue[str | None]()
        for text in incoming:
            self.incoming.put_nowait(text)
        self.sent: list[dict[str, object]] = []
        self.closed: tuple[int, str] | None = None

    async def receive_text(self) -> str | None:
        return await self.incoming.get()

    async def send_text(self, text: str) -> None:
        self.sent.append(json.loads(text))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)
        self.incoming.put_nowait(None)


async def test_the_pump_survives_garbage_and_keeps_the_audio_flowing() -> None:
    ulaw = tone_ulaw(440, 0.1)
    media = [
        json.dumps(
            {"event": "media", "media": {"payload": base64.b64encode(ulaw[i : i + 160]).decode()}}
        )
        for i in range(0, len(ulaw), 160)
    ]
    garbage = ["", "{", '{"event": "media"}', '{"event": "mark", "mark": 1}', "\u0000" * 10]
    socket = ScriptedSocket([media[0], *garbage, *media[1:], '{"event": "stop"}'])
    start = Start("MZ1", "AC1", "CA1", ("inbound",))
    stream = TwilioMediaStream(socket=socket, start=start)
    async with asyncio.timeout(5):
        pump = asyncio.create_task(stream.run())
        frames = []
        while (frame := await stream.receive()) is not None:
            frames.append(frame)
        await pump
    assert len(frames) == 5 and all(len(f) == 640 for f in frames)
    assert [await stream.receive(), await stream.receive()] == [None, None]
    assert stream.ended_by == "caller" and socket.closed == (1000, "call ended")
    stream.send(bytes(640))  # after the end: ignored, never raises
    stream.clear()
    await stream.hangup()
    assert [m for m in socket.sent if m["event"] != "mark"] == []
