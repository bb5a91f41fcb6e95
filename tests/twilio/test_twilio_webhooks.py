"""What reaches the platform from Twilio: signed webhooks, media tokens, inbound calls."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from callwright.domain.ids import new_id
from callwright.providers.base import MediaStream
from callwright.providers.telephony.twilio_gateway import (
    InboundAnswer,
    InboundCall,
    InboundRefusal,
    TwilioGateway,
)
from callwright.providers.telephony.twilio_signature import MediaTokens
from tests.twilio.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    SECRET,
    Harness,
    agent_frames,
    decode,
    dominant_hz,
    eventually,
    rms,
    tone_ulaw,
)
from tests.twilio.fake_twilio import sign
from tests.twilio.test_twilio_calls import request

pytestmark = pytest.mark.timeout(30)

INCOMING_FORM = [
    ("AccountSid", ACCOUNT_SID),
    ("CallSid", "CA" + "e" * 32),
    ("CallStatus", "ringing"),
    ("Direction", "inbound"),
    ("From", "+919876543210"),
    ("To", "+14155550199"),
]
STATUS_FORM = [
    ("AccountSid", ACCOUNT_SID),
    ("CallSid", "CA" + "f" * 32),
    ("CallStatus", "busy"),
    ("From", "+14155550000"),
    ("To", "+14155550001"),
    ("SipResponseCode", "486"),
]


async def post_status(
    harness: Harness, call_id: str, form: list[tuple[str, str]], signature: str | None
) -> httpx.Response:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    async with httpx.AsyncClient() as client:
        return await client.post(
            harness.gateway.status_url(call_id), data=dict(form), headers=headers
        )


async def test_status_callback_with_a_valid_signature_is_taken(harness: Harness) -> None:
    call_id = new_id()
    leg = harness.gateway.open_leg(call_id, AUTH_TOKEN)
    url = harness.gateway.status_url(call_id)
    response = await post_status(harness, call_id, STATUS_FORM, sign(AUTH_TOKEN, url, STATUS_FORM))
    assert response.status_code == 204
    assert leg.ended.done() and leg.ended.result().status == "busy"
    assert leg.ended.result().sip_response_code == 486
    harness.gateway.close_leg(call_id)


@pytest.mark.parametrize(
    "signature",
    [
        None,  # no header
        "",
        "bm90IGEgc2lnbmF0dXJl",  # base64 of garbage
        "signed-with-the-wrong-token",
        "tampered-form",
        "ünïcode",
    ],
)
async def test_status_callback_with_a_bad_signature_is_refused_with_403(
    harness: Harness, signature: str | None
) -> None:
    call_id = new_id()
    leg = harness.gateway.open_leg(call_id, AUTH_TOKEN)
    url = harness.gateway.status_url(call_id)
    if signature == "signed-with-the-wrong-token":
        signature = sign("another-accounts-token", url, STATUS_FORM)
    elif signature == "tampered-form":  # signed "busy", sent "no-answer"
        signature = sign(AUTH_TOKEN, url, STATUS_FORM)
    form = [(k, "no-answer" if k == "CallStatus" else v) for k, v in STATUS_FORM]
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    async with httpx.AsyncClient() as client:
        response = await client.post(url, content=_urlencode(form), headers=_raw(headers))
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "forbidden",
        "message": "invalid X-Twilio-Signature",
    }
    assert not leg.ended.done()
    harness.gateway.close_leg(call_id)


async def test_status_callback_for_an_unknown_call_is_404(harness: Harness) -> None:
    call_id = new_id()
    url = harness.gateway.status_url(call_id)
    response = await post_status(harness, call_id, STATUS_FORM, sign(AUTH_TOKEN, url, STATUS_FORM))
    assert response.status_code == 404


async def test_status_callback_with_a_body_that_is_not_a_form_is_refused(harness: Harness) -> None:
    call_id = new_id()
    harness.gateway.open_leg(call_id, AUTH_TOKEN)
    async with httpx.AsyncClient() as client:
        response = await client.post(
            harness.gateway.status_url(call_id),
            content=b"\xff\x00{not a form",
            headers={"Content-Type": "application/json", "X-Twilio-Signature": "x"},
        )
    assert response.status_code == 403
    harness.gateway.close_leg(call_id)


# --------------------------------------------------------------------------- media tokens


async def open_stream(url: str, token: str | None) -> tuple[int | None, str]:
    """Connect as Twilio would and send connected + start; return how the socket closed."""
    async with connect(url) as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        start: dict[str, Any] = {
            "streamSid": "MZ" + "1" * 32,
            "accountSid": ACCOUNT_SID,
            "callSid": "CA" + "2" * 32,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {} if token is None else {"token": token},
        }
        await ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "start": start}))
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
        return ws.close_code, ws.close_reason or ""


@pytest.mark.parametrize("case", ["forged", "expired", "other-secret", "missing", "garbage"])
async def test_a_bad_media_token_closes_the_socket_with_policy_violation(
    harness: Harness, case: str
) -> None:
    call_id = new_id()
    harness.gateway.open_leg(call_id, AUTH_TOKEN)
    good = MediaTokens(secret=SECRET).issue(call_id)
    token = {
        "forged": good[:-4] + ("0000" if not good.endswith("0000") else "1111"),
        "expired": MediaTokens(secret=SECRET, lifetime_s=-1).issue(call_id),
        "other-secret": MediaTokens(secret=b"someone else").issue(call_id),
        "missing": None,
        "garbage": "..",
    }[case]
    code, reason = await open_stream(harness.gateway.media_url(), token)
    assert (code, reason) == (1008, "invalid or expired media token")
    assert not harness.gateway.leg(call_id).answered.done()  # type: ignore[union-attr]
    harness.gateway.close_leg(call_id)


async def test_a_valid_token_for_a_call_nobody_expects_is_refused(harness: Harness) -> None:
    token = MediaTokens(secret=SECRET).issue(new_id())
    code, _ = await open_stream(harness.gateway.media_url(), token)
    assert code == 1008


async def test_a_bad_token_in_the_query_string_is_refused(harness: Harness) -> None:
    call_id = new_id()
    harness.gateway.open_leg(call_id, AUTH_TOKEN)
    good = MediaTokens(secret=SECRET).issue(call_id)
    code, _ = await open_stream(harness.gateway.media_url() + "?token=forged", good)
    assert code == 1008
    harness.gateway.close_leg(call_id)


async def test_a_socket_that_never_starts_is_closed(harness: Harness) -> None:
    async with connect(harness.gateway.media_url()) as ws:
        await ws.send(json.dumps({"event": "media", "media": {"payload": ""}}))
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                await ws.recv()
    assert ws.close_code == 1008


async def test_a_token_admits_one_stream_only(harness: Harness) -> None:
    result = await harness.telephony.dial(request("+14155550100"))
    call = harness.twilio.calls[result.provider_call_id]
    root = ET.fromstring(call.twiml)
    token = root.find("./Connect/Stream/Parameter").get("value")  # type: ignore[union-attr]
    code, _ = await open_stream(harness.gateway.media_url(), token)  # a replay
    assert code == 1008
    assert result.stream is not None
    await result.stream.hangup()


# --------------------------------------------------------------------------- inbound


class Inbound:
    """The inbound hook as a test double of the inbound-call service: one number, one agent."""

    def __init__(self, *, number: str, refusal: InboundRefusal | None = None) -> None:
        self.number = number
        self.refusal = refusal
        self.abandoned: list[str] = []
        self.calls: list[InboundCall] = []
        self.heard: list[bytes] = []
        self.done = asyncio.Event()

    async def auth_token(self, *, account_sid: str, to_number: str) -> str | None:
        return AUTH_TOKEN if (account_sid, to_number) == (ACCOUNT_SID, self.number) else None

    async def answer(self, call: InboundCall) -> InboundAnswer | InboundRefusal:
        self.calls.append(call)
        if self.refusal is not None:
            return self.refusal
        call_id = new_id()

        async def abandon() -> None:
            self.abandoned.append(call_id)

        return InboundAnswer(call_id=call_id, converse=self.converse, abandon=abandon)

    async def converse(self, stream: MediaStream) -> None:
        """Greet with a 700 Hz tone, then listen until the caller has spoken 0.3 s."""
        for frame in agent_frames(700, 0.4):
            stream.send(frame)
            await asyncio.sleep(0.02)
        while len(self.heard) < 15 and (caller := await stream.receive()) is not None:
            if rms(caller) > 1000:
                self.heard.append(caller)
        self.done.set()


async def test_an_inbound_call_reaches_the_numbers_agent(harness: Harness) -> None:
    inbound = Inbound(number="+14155550199")
    harness.gateway.inbound = inbound
    response, call = await harness.twilio.incoming_call(
        voice_url=harness.gateway.voice_url(), from_="+919876543210", to="+14155550199"
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert ET.fromstring(response.text).find("./Connect/Stream") is not None
    async with asyncio.timeout(5):
        await call.connected.wait()
    call.say(tone_ulaw(300, 0.5))
    async with asyncio.timeout(5):
        await inbound.done.wait()
        await call.ended.wait()  # the conversation returned: the platform hung up
    assert inbound.calls == [InboundCall(call.sid, ACCOUNT_SID, "+919876543210", "+14155550199")]
    assert dominant_hz(b"".join(inbound.heard), 16_000) == pytest.approx(300, abs=8)
    assert dominant_hz(decode(bytes(call.heard)), 8000) == pytest.approx(700, abs=10)
    assert call.close_code == 1000


@pytest.mark.parametrize("refusal", ["busy", "rejected"])
async def test_an_inbound_call_the_service_refuses_is_rejected(
    harness: Harness, refusal: InboundRefusal
) -> None:
    harness.gateway.inbound = Inbound(number="+14155550199", refusal=refusal)
    response, call = await harness.twilio.incoming_call(
        voice_url=harness.gateway.voice_url(), from_="+919876543210", to="+14155550199"
    )
    assert response.status_code == 200
    reject = ET.fromstring(response.text).find("./Reject")
    assert reject is not None and reject.get("reason") == refusal
    assert call.stream_url == ""
    assert harness.gateway.in_flight == 0


async def test_an_inbound_call_whose_stream_never_connects_is_abandoned(harness: Harness) -> None:
    inbound = Inbound(number="+14155550199")
    gateway = TwilioGateway(
        public_url=harness.platform_url, secret=SECRET, inbound=inbound, connect_timeout_s=0.2
    )
    try:
        twiml = await gateway.on_incoming(
            INCOMING_FORM, sign(AUTH_TOKEN, gateway.voice_url(), INCOMING_FORM), ""
        )
        token = ET.fromstring(twiml).find("./Connect/Stream/Parameter")
        assert token is not None and gateway.in_flight == 1
        await eventually(lambda: len(inbound.abandoned) == 1)
        assert gateway.in_flight == 0
        # The token that came too late no longer admits a stream.
        assert MediaTokens(secret=SECRET).verify(token.get("value")) == inbound.abandoned[0]
        assert gateway.leg(inbound.abandoned[0]) is None
    finally:
        await gateway.aclose()


@pytest.mark.parametrize(
    ("to", "signature", "status"),
    [
        ("+14155550198", None, 403),  # not our number
        ("+14155550199", "forged", 403),
    ],
)
async def test_inbound_webhooks_that_do_not_verify_are_refused(
    harness: Harness, to: str, signature: str | None, status: int
) -> None:
    inbound = Inbound(number="+14155550199")
    harness.gateway.inbound = inbound
    response, _ = await harness.twilio.incoming_call(
        voice_url=harness.gateway.voice_url(), from_="+919876543210", to=to, signature=signature
    )
    assert response.status_code == status
    assert inbound.calls == []  # the service never saw it


async def test_inbound_webhooks_without_a_hook_are_404(harness: Harness) -> None:
    response, _ = await harness.twilio.incoming_call(
        voice_url=harness.gateway.voice_url(), from_="+919876543210", to="+14155550199"
    )
    assert response.status_code == 404


async def test_every_inbound_leg_is_released(harness: Harness) -> None:
    inbound = Inbound(number="+14155550199")
    harness.gateway.inbound = inbound
    _, call = await harness.twilio.incoming_call(
        voice_url=harness.gateway.voice_url(), from_="+919876543210", to="+14155550199"
    )
    async with asyncio.timeout(5):
        await call.connected.wait()
    await harness.twilio.hang_up(call)  # the caller hangs up first
    await eventually(lambda: harness.gateway.in_flight == 0)


def _urlencode(form: list[tuple[str, str]]) -> bytes:
    return urllib.parse.urlencode(form).encode()


def _raw(headers: dict[str, str]) -> dict[bytes, bytes]:
    """Headers as bytes, so that a non-ASCII signature reaches the server as sent."""
    raw = {k.encode(): v.encode() for k, v in headers.items()}
    return {b"Content-Type": b"application/x-www-form-urlencoded", **raw}
