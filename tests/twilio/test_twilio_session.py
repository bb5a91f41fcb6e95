"""A whole call: the real CallSession (fake engines) talking through Twilio Media Streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import numpy as np
import pytest

from callwright.media.config import CallResult, EndReason, Engines, SessionConfig
from callwright.media.session import CallSession
from callwright.providers.base import SAMPLE_RATE_HZ
from callwright.testing import FakeSTT, FakeVAD, ScriptedLLM
from tests.twilio.conftest import Harness, decode, dominant_hz, eventually, rms, tone_ulaw
from tests.twilio.fake_twilio import FakeCall
from tests.twilio.test_twilio_calls import answered

pytestmark = pytest.mark.timeout(60)


class ToneTTS:
    """Instant TTS that survives a phone line: a 300 Hz tone, 50 ms per 4 characters."""

    async def synthesize(self, text: str) -> AsyncGenerator[bytes, None]:
        n = int(SAMPLE_RATE_HZ * 0.05 * max(1, len(text) // 4))
        t = np.arange(n) / SAMPLE_RATE_HZ
        yield (np.sin(2 * np.pi * 300 * t) * 8000).astype("<i2").tobytes()


def config(*, intro: str, heard: str, reply: str) -> SessionConfig:
    engines = Engines(
        vad=FakeVAD(), stt=FakeSTT(texts=[heard]), llm=ScriptedLLM([reply]), tts=ToneTTS()
    )
    return SessionConfig(engines=engines, intro_message=intro, record=True)


async def agent_quiet(call: FakeCall, *, quiet_s: float = 0.3) -> None:
    """Wait until the agent has sent audio and then nothing for ``quiet_s``."""
    await eventually(lambda: len(call.media_received) > 0)
    while True:
        before = len(call.media_received)
        await asyncio.sleep(quiet_s)
        if len(call.media_received) == before:
            return


async def test_a_conversation_over_twilio_media_streams(harness: Harness) -> None:
    _, stream, call = await answered(harness)
    session = CallSession(
        config=config(
            intro="Hello, this is the callwright demo line.",
            heard="Yes, I would like a demo.",
            reply="Great, I will book the demo for you. Goodbye!",
        ),
        stream=stream,
    )
    running = asyncio.create_task(session.run())
    await agent_quiet(call)  # the intro has been played
    intro_frames = call.played_frames
    call.say(tone_ulaw(440, 0.8))  # the caller answers
    result: CallResult = await asyncio.wait_for(running, 20)

    assert result.end_reason is EndReason.AGENT_HANGUP
    assert {"user": "Yes, I would like a demo."} in result.transcript
    assert result.transcript[-1] == {"bot": "Great, I will book the demo for you. Goodbye!"}
    async with asyncio.timeout(5):
        await call.ended.wait()
    assert call.close_code == 1000  # the agent hung up the stream
    assert call.played_frames > intro_frames + 20  # the caller heard the reply too …
    assert call.played_frames == stream.written_frames  # … to its last frame
    heard = decode(bytes(call.heard))
    assert dominant_hz(heard, 8000) == pytest.approx(300, abs=10)
    assert result.turn_latencies and result.turn_latencies[0].first_audio_out_ms is not None
    assert result.recording_wav is not None  # caller left, agent right: both sides were live
    pcm = np.frombuffer(result.recording_wav[44:], dtype="<i2")
    assert rms(pcm[0::2].tobytes()) > 500 and rms(pcm[1::2].tobytes()) > 500


async def test_barge_in_clears_twilios_buffer(harness: Harness) -> None:
    _, stream, call = await answered(harness)
    intro = "Hello! " + "Let me tell you everything about our offer. " * 8  # ~5 s of audio
    session = CallSession(
        config=config(intro=intro, heard="Stop, I have a question please", reply="Sure. Goodbye!"),
        stream=stream,
    )
    running = asyncio.create_task(session.run())
    await eventually(lambda: call.played_frames >= 40)  # 0.8 s into the intro
    call.say(tone_ulaw(440, 1.0))  # the caller talks over it
    result: CallResult = await asyncio.wait_for(running, 20)

    assert call.clears >= 1
    assert result.interruptions >= 1
    assert {"user": "Stop, I have a question please"} in result.transcript
    bot_intro = result.transcript[0]["bot"]
    assert intro.startswith(bot_intro.rstrip(".… ")) and len(bot_intro) < len(intro)
    assert stream.played_frames <= call.played_frames
