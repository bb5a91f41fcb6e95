"""Outbound calls against sipp playing a trunk's callee: each outcome maps to the right
DialOutcome, sipp sees a correct dialog (its exit status), and nothing is left behind."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
import pytest

from callwright.media.audio import rms
from callwright.providers.base import FRAME_BYTES, DialOutcome, DialRequest
from callwright.sip import SipCall
from tests.sip.conftest import Sipp, needs_sipp, sip_telephony

pytestmark = [needs_sipp, pytest.mark.usefixtures("no_leaks"), pytest.mark.timeout(60)]

TONE = (np.sin(2 * np.pi * 440 * np.arange(FRAME_BYTES // 2) / 16_000) * 8000).astype("<i2")


def request(ring_timeout_s: float = 5.0) -> DialRequest:
    return DialRequest(
        call_id="c1",
        from_number="+15550100000",
        to_number="+14155550100",
        ring_timeout_s=ring_timeout_s,
    )


@pytest.mark.parametrize(
    ("scenario", "outcome", "detail"),
    [
        ("uas_busy.xml", DialOutcome.BUSY, "busy line"),
        ("uas_reject.xml", DialOutcome.REJECTED, "rejected"),
        ("uas_noanswer.xml", DialOutcome.NO_ANSWER, "no answer"),
    ],
)
async def test_unanswered_outcomes(
    sipp: Callable[..., Sipp], scenario: str, outcome: DialOutcome, detail: str
) -> None:
    far = sipp(scenario)
    await far.start()
    telephony = sip_telephony(far.port)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        result = await telephony.dial(request(ring_timeout_s=1.0))
        assert (result.outcome, result.detail, result.stream) == (outcome, detail, None)
        if outcome is DialOutcome.NO_ANSWER:
            assert loop.time() - started >= 1.0  # it rang for the whole ring timeout
        assert await far.wait() == 0  # sipp got our ACK (and, on no answer, our CANCEL)
    finally:
        await telephony.aclose()


async def test_callee_answers_and_audio_flows_both_ways(sipp: Callable[..., Sipp]) -> None:
    far = sipp("uas_answer.xml", "-rtp_echo")
    await far.start()
    telephony = sip_telephony(far.port)
    try:
        result = await telephony.dial(request())
        assert result.outcome is DialOutcome.ANSWERED
        call = result.stream
        assert isinstance(call, SipCall)
        assert call.rtp.codec_pt == 8  # the callee answered PCMA only
        heard: list[bytes] = []

        async def listen() -> None:
            while (frame := await call.receive()) is not None:
                heard.append(frame)

        async with asyncio.TaskGroup() as tg:
            tg.create_task(listen())
            for _ in range(50):  # one second of tone, paced like a call session
                call.send(TONE.tobytes())
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.3)
            await call.hangup()
        loud = [f for f in heard if rms(f) > 1000]
        assert len(loud) >= 35, f"only {len(loud)} of 50 frames came back"
        assert all(len(f) == FRAME_BYTES for f in heard)
        assert call.ended_by == "local"
        assert await far.wait() == 0  # sipp got the BYE and answered it
    finally:
        await telephony.aclose()


async def test_callee_hangs_up_mid_call(sipp: Callable[..., Sipp]) -> None:
    far = sipp("uas_hangup.xml")
    await far.start()
    telephony = sip_telephony(far.port)
    try:
        result = await telephony.dial(request())
        assert result.outcome is DialOutcome.ANSWERED and isinstance(result.stream, SipCall)
        async with asyncio.timeout(5):
            while await result.stream.receive() is not None:
                pass
        assert result.stream.ended_by == "remote"
        await result.stream.hangup()  # idempotent: no second BYE
        assert await far.wait() == 0
    finally:
        await telephony.aclose()


async def test_digest_challenge_is_answered(sipp: Callable[..., Sipp]) -> None:
    far = sipp("uas_auth.xml")
    await far.start()
    telephony = sip_telephony(far.port, username="alice", password="s3cret-pass")
    try:
        result = await telephony.dial(request())
        assert result.outcome is DialOutcome.ANSWERED and result.stream is not None
        await result.stream.hangup()
        assert await far.wait() == 0
    finally:
        await telephony.aclose()


async def test_wrong_password_is_refused(sipp: Callable[..., Sipp]) -> None:
    far = sipp("uas_auth.xml")
    await far.start()
    telephony = sip_telephony(far.port, username="alice", password="wrong")
    try:
        result = await telephony.dial(request())
        assert result.outcome is DialOutcome.REJECTED  # the trunk's 403
        await far.wait()
    finally:
        await telephony.aclose()
