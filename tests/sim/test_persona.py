"""The callee's behaviour on a real μ-law line, with the scripted engines from
``callwright.testing`` (energy VAD, scripted STT, marker TTS) so timing is exact and fast.
The agent side plays a 440 Hz tone as its "speech" (a tone survives the 8 kHz line)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest

from callwright.providers.base import SAMPLE_RATE_HZ
from callwright.sim.line import SimLine
from callwright.sim.persona import Persona, PersonaEngines
from callwright.sim.personas import CATALOGUE, LEAVE_TAKING, Interjection, PersonaSpec
from callwright.sim.report import PersonaReport, SpeechKind
from callwright.testing.engines import FakeSTT, FakeTTS, FakeVAD
from tests.sim.simkit import AgentSide

pytestmark = pytest.mark.slow  # real-time calls of a few seconds each


def _tone(seconds: float) -> bytes:
    t = np.arange(int(SAMPLE_RATE_HZ * seconds)) / SAMPLE_RATE_HZ
    return (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()


async def _call(
    spec: PersonaSpec,
    heard: Sequence[str],
    agent_says: Sequence[float],
    *,
    pause_s: float = 1.5,
    linger_s: float = 0.0,
) -> tuple[PersonaReport, AgentSide, SimLine]:
    """Play ``agent_says`` tones (seconds each) with pauses; the callee "hears" ``heard``."""
    line = SimLine()
    engines = PersonaEngines(vad=FakeVAD(), stt=FakeSTT(texts=list(heard)), tts=FakeTTS())
    persona = Persona(
        spec=spec,
        engines=engines,
        handset=line.handset,
        variables={"callee_name": "Ravi"},
        endpoint_silence_ms=300,
    )
    callee = asyncio.create_task(persona.run())
    agent = AgentSide(line.agent)
    listening = asyncio.create_task(agent.listen())
    for seconds in agent_says:
        if line.closed:
            break
        await agent.play(_tone(seconds))
        await asyncio.sleep(pause_s)
    await asyncio.sleep(linger_s)
    await line.agent.hangup()
    await listening
    return await callee, agent, line


async def test_cooperative_callee_answers_each_utterance() -> None:
    report, agent, _ = await _call(
        CATALOGUE["cooperative"], ["Hi, am I speaking with Ravi?", "When suits you?"], [1.0, 1.0]
    )
    assert [h.text for h in report.heard] == ["Hi, am I speaking with Ravi?", "When suits you?"]
    assert [s.text for s in report.spoken] == [
        "Yes, this is Ravi. My name is Ravi.",
        "Tomorrow morning at ten would be best for me.",
    ]
    assert all(s.kind is SpeechKind.REPLY and s.completed for s in report.spoken)
    first = report.spoken[0]
    assert first.onset_mono is not None
    # the callee waits for the agent to finish: endpoint (0.3 s) + reply delay (0.2 s)
    assert 0.45 <= first.onset_mono - report.heard[0].end_mono <= 0.8
    assert agent.received  # (marker "speech" is an 8 kHz square wave: the line filters it out)


async def test_interrupter_talks_over_the_agent_on_time() -> None:
    spec = PersonaSpec(name="t", description="", interrupt=Interjection("Wait, stop.", 700))
    report, _, _ = await _call(spec, ["Hi Ravi, this is"], [3.0])
    (interrupt,) = report.spoken
    assert interrupt.kind is SpeechKind.INTERRUPT and interrupt.onset_mono is not None
    assert 0.68 <= interrupt.onset_mono - report.heard[0].start_mono <= 0.78
    # the agent (a tone that never stops) was still audible: the measurement sees 2+ s more
    stop_s = report.agent_audio_stop_s(interrupt.onset_mono)
    assert stop_s is not None and 2.0 <= stop_s <= 2.4
    assert len(report.spoken) == 1  # it does not also answer the utterance it cut off


async def test_backchannel_only_while_the_agent_speaks() -> None:
    spec = PersonaSpec(
        name="b",
        description="",
        rule_replies=False,
        backchannel=Interjection("Okay.", 400, on_agent_turns=(1, 2)),
    )
    report, _, _ = await _call(spec, ["one", "two"], [1.5, 0.2])
    # the second utterance (0.2 s) was over before the backchannel was due
    assert [s.kind for s in report.spoken] == [SpeechKind.BACKCHANNEL]


async def test_silent_callee_never_speaks_and_hangs_up_persona_ends_the_line() -> None:
    report, agent, _ = await _call(CATALOGUE["silent"], ["Hello?"], [0.5], pause_s=1.0)
    assert not report.spoken and report.hung_up_by == "agent"
    assert agent.received and agent.last_loud == 0.0

    report, agent, line = await _call(
        CATALOGUE["hangs_up"], ["Is this a good time?", "Thanks."], [0.6, 0.6, 0.6]
    )
    assert [s.text for s in report.spoken] == ["Yes, that works for me."]
    assert report.hung_up_by == "callee" and line.hung_up_by == "callee"
    assert len(report.heard) == 2 and agent.ended_at is not None


async def test_talkative_callee_yields_when_talked_over() -> None:
    spec = PersonaSpec(
        name="t", description="", replies=("blah " * 200,), rule_replies=False, yield_after_ms=400
    )
    report, _, _ = await _call(spec, ["Hello."], [0.5, 3.0], pause_s=0.8)
    (monologue,) = report.spoken
    assert not monologue.completed  # cut short: the agent talked over it for 0.4 s


async def test_voicemail_greets_then_beeps_then_never_replies() -> None:
    report, agent, _ = await _call(
        CATALOGUE["voicemail"], ["Hi, this is Acme."], [3.0], pause_s=1.0
    )
    assert [s.kind for s in report.spoken] == [SpeechKind.GREETING]
    assert report.spoken[0].completed
    assert agent.last_loud > 0  # the beep (a 1 kHz tone survives the line) was heard


async def test_cooperative_callee_takes_leave_after_a_few_replies() -> None:
    spec = CATALOGUE["cooperative"]
    assert spec.patience_replies == 4
    questions = ["Is now a good time?", "Do you use our app?", "Would you like a demo?"]
    report, _, line = await _call(
        replace(spec, patience_replies=2), questions, [0.6, 0.6, 0.6], pause_s=1.2
    )
    replies = [s.text for s in report.spoken]
    assert replies[:2] == ["Yes, that works for me.", "Yes, that works for me."]
    assert replies[2] == LEAVE_TAKING
    assert line.closed  # and then the callee hangs up


async def test_callee_waits_when_the_agent_only_paused_between_sentences() -> None:
    # The agent stops for 0.35 s: long enough for the callee to call it the end of a turn
    # (0.3 s), but it speaks again before the callee's 0.2 s reply delay is over.
    report, _, _ = await _call(
        CATALOGUE["cooperative"],
        ["Hi, this is Maya.", "When suits you?"],
        [0.8, 0.8],
        pause_s=0.35,
        linger_s=1.5,
    )
    assert [s.text for s in report.spoken][:1] == ["Tomorrow morning at ten would be best for me."]
