"""Outbound calls through the fake Twilio: REST wire format, outcomes, media both ways."""

from __future__ import annotations

import asyncio
import functools
import xml.etree.ElementTree as ET

import pytest

from callwright.domain.ids import new_id
from callwright.providers.base import (
    DialOutcome,
    DialRequest,
    DialResult,
    ErrorCategory,
    ProviderError,
)
from callwright.providers.telephony.twilio_stream import TwilioMediaStream
from tests.twilio.conftest import (
    FROM,
    Harness,
    agent_frames,
    decode,
    dominant_hz,
    eventually,
    rms,
    tone_ulaw,
)
from tests.twilio.fake_twilio import FakeCall, bound_socket

pytestmark = pytest.mark.timeout(30)


def request(to: str, *, ring_timeout_s: float = 5.0) -> DialRequest:
    return DialRequest(
        call_id=new_id(), from_number=FROM, to_number=to, ring_timeout_s=ring_timeout_s
    )


async def answered(
    harness: Harness, to: str = "+14155550100"
) -> tuple[DialResult, TwilioMediaStream, FakeCall]:
    result = await harness.telephony.dial(request(to))
    assert result.outcome is DialOutcome.ANSWERED, result
    assert isinstance(result.stream, TwilioMediaStream)
    return result, result.stream, harness.twilio.calls[result.provider_call_id]


async def test_dial_posts_twilio_form_and_answers_with_a_connect_stream(harness: Harness) -> None:
    result, stream, call = await answered(harness)

    assert result.provider_call_id.startswith("CA") and len(result.provider_call_id) == 34
    path, form = harness.twilio.requests[0]
    assert path == f"/2010-04-01/Accounts/{harness.twilio.account_sid}/Calls.json"
    values = dict(form)
    assert (values["To"], values["From"], values["Timeout"]) == ("+14155550100", FROM, "5")
    assert [v for k, v in form if k == "StatusCallbackEvent"] == [
        "initiated",
        "ringing",
        "answered",
        "completed",
    ]
    assert values["StatusCallback"].startswith(
        harness.platform_url + "/ca/api/v0/telephony/twilio/status/"
    )
    connect = ET.fromstring(values["Twiml"]).find("./Connect/Stream")
    assert connect is not None
    assert (
        connect.get("url")
        == harness.platform_url.replace("http", "ws") + "/ca/api/v0/telephony/twilio/media"
    )
    # Twilio drops query strings from <Stream url>: the token rides in a <Parameter>.
    assert [p.get("name") for p in connect.findall("Parameter")] == ["token"]
    assert stream.call_sid == call.sid and stream.stream_sid == call.stream_sid
    # Progress callbacks were signed well enough for the platform to take them.
    assert [c["CallStatus"] for c in call.callbacks] == ["initiated", "ringing", "in-progress"]
    assert call.callback_replies == [204, 204, 204]


async def test_caller_audio_reaches_the_media_stream_as_16khz_frames(harness: Harness) -> None:
    _, stream, call = await answered(harness)
    call.say(tone_ulaw(440, 0.6))
    loud: list[bytes] = []
    async with asyncio.timeout(5):
        while len(loud) < 25:
            frame = await stream.receive()
            assert frame is not None and len(frame) == 640  # 20 ms of 16 kHz PCM16
            if rms(frame) > 1000:
                loud.append(frame)
    assert dominant_hz(b"".join(loud), 16_000) == pytest.approx(440, abs=8)


async def test_agent_audio_reaches_twilio_as_ulaw_frames_and_marks_track_playback(
    harness: Harness,
) -> None:
    _, stream, call = await answered(harness)
    for frame in agent_frames(1000, 0.6):
        stream.send(frame)
        await asyncio.sleep(0.02)
    await eventually(lambda: stream.played_frames == stream.written_frames > 0)

    assert all(len(payload) == 160 for payload in call.media_received)  # 20 ms of μ-law
    assert len(call.media_received) == stream.written_frames
    assert 29 <= stream.written_frames <= 31
    heard = decode(bytes(call.heard))
    assert rms(heard) > 3000
    assert dominant_hz(heard, 8000) == pytest.approx(1000, abs=10)
    assert call.marks_received and call.marks_echoed == call.marks_received
    assert stream.played_ms == stream.played_frames * 20


async def test_clear_drops_what_twilio_buffers_and_cleared_audio_is_not_counted(
    harness: Harness,
) -> None:
    _, stream, call = await answered(harness)
    for frame in agent_frames(600, 2.0):  # a long reply, all handed over at once
        stream.send(frame)
    await eventually(lambda: call.played_frames >= 10)
    stream.clear()  # the caller barged in

    await eventually(lambda: call.clears == 1)
    await asyncio.sleep(0.2)
    assert call.played_frames < 40  # 2 s were sent; playback stopped early
    assert stream.written_frames >= 95
    assert stream.played_frames <= call.played_frames
    assert set(call.marks_echoed) == set(call.marks_received)  # clear echoed the rest

    before_played, before_written = stream.played_frames, stream.written_frames
    for frame in agent_frames(600, 0.2):  # the next reply plays normally
        stream.send(frame)
        await asyncio.sleep(0.02)
    await eventually(
        lambda: (
            stream.written_frames - before_written >= 10
            and stream.played_frames - before_played == stream.written_frames - before_written
        )
    )


async def test_dtmf_digits_arrive_in_order(harness: Harness) -> None:
    _, stream, call = await answered(harness)
    await call.press("7")
    await call.press("#")
    async with asyncio.timeout(3):
        assert [await stream.next_dtmf(), await stream.next_dtmf()] == ["7", "#"]
    assert stream.received_dtmf == ["7", "#"]


async def test_caller_hangup_ends_the_stream(harness: Harness) -> None:
    result, stream, call = await answered(harness)
    await harness.twilio.hang_up(call)
    async with asyncio.timeout(3):
        while await stream.receive() is not None:
            pass
    assert stream.receive is not None and await stream.receive() is None
    assert stream.ended_by == "caller"
    await eventually(lambda: harness.gateway.leg(result.provider_call_id) is None)
    assert call.callbacks[-1]["CallStatus"] == "completed"
    await stream.hangup()  # idempotent after the far end left


async def test_agent_hangup_closes_the_socket_and_completes_the_call(harness: Harness) -> None:
    _, stream, call = await answered(harness)
    for frame in agent_frames(500, 0.5):  # last words, handed over just before hanging up
        stream.send(frame)
    await stream.hangup()
    assert call.played_frames == stream.written_frames == stream.played_frames >= 24
    async with asyncio.timeout(3):  # caller audio from before the hang-up, then the end
        while await stream.receive() is not None:
            pass
    assert [await stream.receive(), await stream.receive()] == [None, None]
    await stream.hangup()
    async with asyncio.timeout(3):
        await call.ended.wait()
    assert call.close_code == 1000
    assert stream.ended_by == "agent"
    assert call.callbacks[-1]["CallStatus"] == "completed"
    assert call.callback_replies[-1] == 204  # a late callback still verifies


@pytest.mark.parametrize(
    ("to", "outcome", "detail"),
    [
        ("+14155550001", DialOutcome.BUSY, "busy line"),
        ("+14155550002", DialOutcome.NO_ANSWER, "no answer"),
        ("+14155550003", DialOutcome.FAILED, "failed (SIP 503)"),
        ("+14155550004", DialOutcome.REJECTED, "rejected"),
        ("+14155550005", DialOutcome.FAILED, "no media stream"),
    ],
)
async def test_status_callbacks_decide_unanswered_calls(
    harness: Harness, to: str, outcome: DialOutcome, detail: str
) -> None:
    dial = request(to, ring_timeout_s=1.0)
    result = await harness.telephony.dial(dial)
    assert (result.outcome, result.detail, result.stream) == (outcome, detail, None)
    call = harness.twilio.calls[result.provider_call_id]
    assert call.callback_replies and set(call.callback_replies) == {204}
    assert harness.gateway.leg(dial.call_id) is None


async def test_cancelling_a_dial_cancels_the_twilio_call(harness: Harness) -> None:
    dial = request("+14155550002", ring_timeout_s=20)
    task = asyncio.create_task(harness.telephony.dial(dial))
    await eventually(lambda: any(c.status == "ringing" for c in harness.twilio.calls.values()))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (call,) = harness.twilio.calls.values()
    assert call.status == "canceled"
    assert harness.twilio.requests[-1] == (
        f"/2010-04-01/Accounts/{harness.twilio.account_sid}/Calls/{call.sid}.json",
        [("Status", "canceled")],
    )
    assert harness.gateway.leg(dial.call_id) is None


@pytest.mark.parametrize(
    ("to", "credentials", "category", "retryable", "words"),
    [
        ("+1000", {}, ErrorCategory.BAD_REQUEST, False, "(21211): The 'To' number +1000"),
        ("+14155550100", {"auth_token": "wrong-token-123"}, ErrorCategory.AUTH, False, "20003"),
        ("+14155550429", {}, ErrorCategory.RATE_LIMITED, True, "20429"),
    ],
)
async def test_rest_errors_become_provider_errors(
    harness: Harness,
    to: str,
    credentials: dict[str, str],
    category: ErrorCategory,
    retryable: bool,
    words: str,
) -> None:
    telephony = harness.telephony_with(**credentials)
    dial = request(to)
    with pytest.raises(ProviderError) as caught:
        await telephony.dial(dial)
    assert (caught.value.category, caught.value.retryable) == (category, retryable)
    assert words in str(caught.value)
    assert harness.gateway.leg(dial.call_id) is None


async def test_unreachable_twilio_is_a_retryable_unavailable_error(harness: Harness) -> None:
    closed = bound_socket()  # bound, never listening: connections are refused
    host, port = closed.getsockname()[:2]
    telephony = harness.telephony_with(api_base_url=f"http://{host}:{port}")
    try:
        with pytest.raises(ProviderError) as caught:
            await telephony.dial(request("+14155550100"))
    finally:
        closed.close()
    assert (caught.value.category, caught.value.retryable) == (ErrorCategory.UNAVAILABLE, True)


async def test_concurrent_calls_keep_their_audio_apart(harness: Harness) -> None:
    results = await asyncio.gather(
        *(harness.telephony.dial(request(f"+1415555{n:04d}")) for n in (100, 101, 102))
    )
    for n, result in enumerate(results):
        stream = result.stream
        assert isinstance(stream, TwilioMediaStream)
        for frame in agent_frames(400 + 200 * n, 0.3):
            stream.send(frame)
    for n, result in enumerate(results):
        call = harness.twilio.calls[result.provider_call_id]
        await eventually(functools.partial(played_at_least, call, 14))
        assert dominant_hz(decode(bytes(call.heard)), 8000) == pytest.approx(400 + 200 * n, abs=10)


def played_at_least(call: FakeCall, frames: int) -> bool:
    return call.played_frames >= frames
