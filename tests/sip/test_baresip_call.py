"""callwright calls a baresip softphone over SIP on loopback, with the real offline engines.

The softphone auto-answers, asks a question from a WAV after the agent's introduction and
records what it hears; we hang up once the agent has answered. The agent (silero, whisper,
the local LLM, piper in a CallSession on our SipCall) hears the question; the softphone's
recording holds the introduction and an answer about the question."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from callwright.media.audio import resample
from callwright.media.config import CallRules, Engines, SessionConfig
from callwright.media.frames import AudioSent, Frame
from callwright.media.session import CallSession
from callwright.providers import registry
from callwright.providers.base import (
    DialOutcome,
    DialRequest,
    EngineSpec,
    LanguageModel,
    SpeechToText,
    TextToSpeech,
)
from tests.sip.baresip import Baresip, write_wav
from tests.sip.conftest import needs_baresip, sip_telephony

pytestmark = [needs_baresip, pytest.mark.engines, pytest.mark.slow, pytest.mark.timeout(180)]

CALLEE = "+14155550142"
QUESTION = "What time do you open on Saturday?"
INTRO = "Hello, this is Maya from Acme Bakery. How can I help you today?"
PROMPT = (
    "You are Maya, answering the phone for Acme Bakery. The bakery opens at eight in the "
    "morning on Saturdays and closes at two in the afternoon. Answer in one short sentence "
    "that repeats the day the caller asked about."
)


@dataclass(frozen=True)
class RealEngines:
    stt: SpeechToText
    tts: TextToSpeech
    llm: LanguageModel


@pytest.fixture(scope="module")
def real_engines() -> RealEngines:
    """whisper-base, piper and the local LLM, loaded once (models are shared per process)."""
    return RealEngines(
        stt=registry.create("stt", EngineSpec("whisper")),
        tts=registry.create("tts", EngineSpec("piper")),
        llm=registry.create("llm", EngineSpec("local")),
    )


class AnswerWatch:
    """Notices when the agent has spoken a second turn (its answer) and gone quiet."""

    def __init__(self) -> None:
        self.turns: set[int] = set()
        self.last_sent = 0.0

    def on_frame(self, frame: Frame) -> None:
        if isinstance(frame, AudioSent):
            self.turns.add(frame.turn)
            self.last_sent = time.monotonic()

    async def answered(self, *, quiet_s: float) -> None:
        # a quiet spell is a span of time, not an event: poll for it
        while len(self.turns) < 2 or time.monotonic() - self.last_sent < quiet_s:  # noqa: ASYNC110
            await asyncio.sleep(0.1)


async def _speak(tts: TextToSpeech, text: str) -> bytes:
    pcm = bytearray()
    async for chunk in tts.synthesize(text):
        pcm += chunk
    return bytes(pcm)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


async def test_callwright_calls_baresip_and_answers_its_question(
    tmp_path: Path, real_engines: RealEngines
) -> None:
    # The softphone's microphone: silence while the agent introduces itself, the question,
    # then silence for the answer (baresip hangs up when the file ends).
    question = resample(
        await _speak(real_engines.tts, QUESTION), in_rate_hz=16_000, out_rate_hz=8_000
    )
    silence_s = bytes(2 * 8000)
    write_wav(tmp_path / "question.wav", silence_s * 6 + question + silence_s * 45)
    phone = Baresip(workdir=tmp_path, source_wav=tmp_path / "question.wav", user=CALLEE)
    await phone.start()
    telephony = sip_telephony(phone.port)
    try:
        dialed = await telephony.dial(
            DialRequest(call_id="bk1", from_number="+15550100000", to_number=CALLEE)
        )
        assert dialed.outcome is DialOutcome.ANSWERED and dialed.stream is not None
        config = SessionConfig(
            engines=Engines(
                vad=registry.create("vad", EngineSpec("silero")),
                stt=real_engines.stt,
                llm=real_engines.llm,
                tts=real_engines.tts,
            ),
            system_prompt=PROMPT,
            intro_message=INTRO,
            call_id="bk1",
            record=False,
            llm_max_tokens=40,
            rules=CallRules(max_call_length_s=60),
        )
        watch = AnswerWatch()
        async with asyncio.TaskGroup() as tg:
            session = tg.create_task(
                CallSession(config=config, stream=dialed.stream, observers=[watch]).run()
            )
            await watch.answered(quiet_s=1.5)  # the agent spoke its answer: hang up
            await dialed.stream.hangup()
        result = session.result()
    finally:
        await telephony.aclose()
        console = await phone.stop()
    users = " ".join(e["user"] for e in result.transcript if "user" in e)
    bots = [e["bot"] for e in result.transcript if "bot" in e]
    assert "saturday" in _words(users), (users, console)
    assert len(bots) >= 2, result.transcript
    # what the softphone heard, through PCMU and RTP, transcribed
    heard, rate = phone.heard()
    text = (
        await real_engines.stt.transcribe(resample(heard, in_rate_hz=rate, out_rate_hz=16_000))
    ).text
    words = _words(text)
    # The intro, as offline STT hears synthetic speech through PCMU ("Maya from Acme" may come
    # back as "Mai from Atney"): most of its words, and the bakery.
    intro = set(_words(INTRO))
    assert "bakery" in words and len(intro & set(words)) >= len(intro) * 2 // 3, text
    answer_words = set(_words(" ".join(bots[1:])))
    assert answer_words & {"saturday", "saturdays", "eight", "8", "open", "opens"}, bots
    heard_after_intro = set(words) - set(_words(INTRO))
    assert heard_after_intro & {"saturday", "saturdays", "eight", "8", "am", "open", "opens"}, text
