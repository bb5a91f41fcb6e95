"""The ``sim`` telephony provider: reserved outcomes, the dial log, and audio that really
crosses the μ-law line (the callee hears the agent's TTS through whisper, and vice versa)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import numpy as np
import pytest

from callwright.providers import registry
from callwright.providers.base import (
    SAMPLE_RATE_HZ,
    DialOutcome,
    DialRequest,
    EngineSpec,
    Provider,
    ProviderError,
)
from callwright.providers.telephony.sim import SimTelephony, SimTelephonyConfig
from callwright.sim.network import SimNetwork, read_dial_log
from callwright.sim.persona import PersonaEngines
from tests.sim.conftest import LoadedEngines
from tests.sim.simkit import AgentSide, synthesize

FROM = "+15550100000"


def _request(to: str, *, ring_timeout_s: float = 30.0, **variables: str) -> DialRequest:
    return DialRequest(
        call_id=f"call-{to[-4:]}",
        from_number=FROM,
        to_number=to,
        variables=dict(variables),
        ring_timeout_s=ring_timeout_s,
    )


async def _no_engines(name: str) -> PersonaEngines:
    raise AssertionError("this outcome needs no callee")


def test_registry_builds_the_provider(tmp_path: Path) -> None:
    provider = registry.load("telephony", "sim")
    assert isinstance(provider, Provider) and (provider.name, provider.kind) == ("sim", "telephony")
    sim = registry.create("telephony", EngineSpec("sim", {"log_dir": str(tmp_path)}))
    assert isinstance(sim, SimTelephony)
    assert sim.network.log_path == tmp_path / "dials.jsonl"
    with pytest.raises(ProviderError):
        registry.create("telephony", EngineSpec("sim", {"ring_delay_ms": -1}))
    assert SimTelephonyConfig().persona_stt.name == "whisper"


async def test_0001_is_busy(tmp_path: Path) -> None:
    sim = SimTelephony(network=SimNetwork(log_dir=tmp_path), engines=_no_engines, ring_delay_s=0)
    result = await sim.dial(_request("+15551230001"))
    assert (result.outcome, result.detail, result.stream) == (DialOutcome.BUSY, "busy line", None)
    (record,) = read_dial_log(tmp_path)
    assert (record.outcome, record.detail, record.call_id) == (
        DialOutcome.BUSY,
        "busy line",
        "call-0001",
    )
    assert record.provider_call_id == result.provider_call_id


async def test_0002_rings_until_the_timeout(tmp_path: Path) -> None:
    sim = SimTelephony(network=SimNetwork(log_dir=tmp_path), engines=_no_engines, ring_delay_s=0)
    started = time.monotonic()
    result = await sim.dial(_request("+919876540002", ring_timeout_s=0.4))
    assert time.monotonic() - started >= 0.4
    assert (result.outcome, result.detail) == (DialOutcome.NO_ANSWER, "no answer")
    (record,) = read_dial_log(tmp_path)
    assert record.outcome is DialOutcome.NO_ANSWER
    assert record.ended_at_mono is not None and record.ended_at_mono - record.dialed_at_mono >= 0.4


async def test_busy_and_no_answer_personas_work_on_any_number(tmp_path: Path) -> None:
    sim = SimTelephony(network=SimNetwork(log_dir=tmp_path), engines=_no_engines, ring_delay_s=0)
    busy = await sim.dial(_request("+15551234567", persona="busy"))
    assert (busy.outcome, busy.detail) == (DialOutcome.BUSY, "busy line")
    silent = await sim.dial(_request("+15551234567", ring_timeout_s=0.1, persona="no answer"))
    assert (silent.outcome, silent.detail) == (DialOutcome.NO_ANSWER, "no answer")
    assert [r.outcome for r in read_dial_log(tmp_path)] == [DialOutcome.BUSY, DialOutcome.NO_ANSWER]


async def test_invalid_number_fails_and_is_logged(tmp_path: Path) -> None:
    sim = SimTelephony(network=SimNetwork(log_dir=tmp_path), engines=_no_engines, ring_delay_s=0)
    result = await sim.dial(_request("5551230001"))
    assert result.outcome is DialOutcome.FAILED
    assert read_dial_log(tmp_path)[0].outcome is DialOutcome.FAILED


async def test_cancelled_dial_releases_the_line(tmp_path: Path) -> None:
    net = SimNetwork(log_dir=tmp_path)
    sim = SimTelephony(network=net, engines=_no_engines, ring_delay_s=0)
    task = asyncio.create_task(sim.dial(_request("+15551230002", ring_timeout_s=60)))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (record,) = read_dial_log(tmp_path)
    assert (record.outcome, record.detail) == (DialOutcome.FAILED, "cancelled")
    assert net.active_calls() == 0


# --------------------------------------------------------------------------- answered calls


@pytest.mark.engines
async def test_audio_round_trips_through_mulaw(
    telephony: SimTelephony, loaded_engines: LoadedEngines
) -> None:
    """The callee transcribes the agent's piper speech after 8 kHz μ-law, answers by its
    rules, and the agent side transcribes that answer from what came back over the line."""
    result = await telephony.dial(_request("+15551234567", callee_name="Ravi"))
    assert result.outcome is DialOutcome.ANSWERED and result.stream is not None
    agent = AgentSide(result.stream)
    listening = asyncio.create_task(agent.listen())
    greeting = await synthesize(
        loaded_engines.tts, "Hello, this is Maya from Acme. Am I speaking with Ravi?"
    )
    await agent.play(greeting)
    spoke_at = agent.sent_until
    # wait for the callee's answer to arrive and finish
    await agent.wait_for_answer(after=spoke_at, quiet_s=0.6, timeout_s=10)
    await result.stream.hangup()
    await listening
    callee = await telephony.persona_report(result.provider_call_id)
    heard = callee.transcript().lower()
    assert "this is" in heard and "speaking with ravi" in heard
    (reply,) = [s for s in callee.spoken if s.kind == "reply"]
    assert reply.text == "Yes, this is Ravi. My name is Ravi."
    # Like a person, the agent's ears know the name they asked for (whisper-base hears "Radi").
    ears = registry.create("stt", EngineSpec("whisper", {"vocabulary_hint": "Ravi"}))
    answer = await ears.transcribe(agent.audio(since=spoke_at), language="en")
    assert "ravi" in answer.text.lower() and "yes" in answer.text.lower()
    (record,) = telephony.network.records()
    assert (record.outcome, record.ended_by) == (DialOutcome.ANSWERED, "agent")
    assert read_dial_log(telephony.network.log_path.parent) == [record]


def _level(frame: bytes) -> float:
    x = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(x * x)))


@pytest.mark.engines
async def test_0003_voicemail_greeting_then_beep(
    telephony: SimTelephony, loaded_engines: LoadedEngines
) -> None:
    result = await telephony.dial(_request("+15551230003"))
    assert result.outcome is DialOutcome.ANSWERED and result.stream is not None
    agent = AgentSide(result.stream)
    listening = asyncio.create_task(agent.listen())
    await asyncio.sleep(8.0)
    await result.stream.hangup()
    await listening
    audio = agent.audio()
    heard = (await loaded_engines.stt.transcribe(audio, language="en")).text.lower()
    assert "leave a message" in heard
    x = np.frombuffer(audio, dtype="<i2").astype(np.float64)
    frames = x[: x.size // 320 * 320].reshape(-1, 320)
    spectrum = np.abs(np.fft.rfft(frames, axis=1))
    peak_hz = np.argmax(spectrum, axis=1) * SAMPLE_RATE_HZ / 320
    loud = np.sqrt(np.mean(frames**2, axis=1)) > 1000
    beep = np.flatnonzero(loud & (np.abs(peak_hz - 1000) <= 50))
    assert len(beep) >= 20  # 0.5 s of 1 kHz tone
    assert not loud[beep[-1] + 5 :].any()  # then silence until we hang up
    callee = await telephony.persona_report(result.provider_call_id)
    assert callee.hung_up_by == "agent"


@pytest.mark.engines
async def test_0004_hangs_up_after_the_greeting(
    telephony: SimTelephony, loaded_engines: LoadedEngines
) -> None:
    result = await telephony.dial(_request("+15551230004"))
    assert result.outcome is DialOutcome.ANSWERED and result.stream is not None
    agent = AgentSide(result.stream)
    listening = asyncio.create_task(agent.listen())
    await agent.play(await synthesize(loaded_engines.tts, "Hello, this is the billing department."))
    await asyncio.wait_for(listening, 5)
    assert agent.ended_at is not None
    # the callee's endpoint silence (0.7 s) plus a tick or two
    assert 0.5 < agent.ended_at - agent.sent_until < 1.5
    callee = await telephony.persona_report(result.provider_call_id)
    assert callee.hung_up_by == "callee" and not callee.spoken
    assert "billing department" in callee.transcript().lower()
    (record,) = read_dial_log(telephony.network.log_path.parent)
    assert record.ended_by == "callee"


@pytest.mark.engines
async def test_0005_answers_and_stays_silent(
    telephony: SimTelephony, loaded_engines: LoadedEngines
) -> None:
    result = await telephony.dial(_request("+15551230005"))
    assert result.outcome is DialOutcome.ANSWERED and result.stream is not None
    agent = AgentSide(result.stream)
    listening = asyncio.create_task(agent.listen())
    await agent.play(await synthesize(loaded_engines.tts, "Hello, is anyone there?"))
    await asyncio.sleep(3.0)
    await result.stream.hangup()
    await listening
    assert len(agent.received) > 100  # the line carried frames the whole time...
    assert max(_level(f) for _, f in agent.received) == 0  # ...all of them silence
    callee = await telephony.persona_report(result.provider_call_id)
    assert "anyone there" in callee.transcript().lower() and not callee.spoken


@pytest.mark.engines
async def test_persona_variable_picks_the_callee(
    telephony: SimTelephony, loaded_engines: LoadedEngines
) -> None:
    """``variables["persona"] = "hangs_up"``: answers the first utterance, then hangs up
    when the agent's second utterance ends."""
    result = await telephony.dial(_request("+15551234567", persona="hangs_up"))
    assert result.outcome is DialOutcome.ANSWERED and result.stream is not None
    agent = AgentSide(result.stream)
    listening = asyncio.create_task(agent.listen())
    await agent.play(await synthesize(loaded_engines.tts, "Hello, is this a good time?"))
    await agent.wait_for_answer(after=agent.sent_until, quiet_s=0.5, timeout_s=10)
    await agent.play(await synthesize(loaded_engines.tts, "Thank you for your time."))
    await asyncio.wait_for(listening, 5)
    assert agent.ended_at is not None and agent.ended_at - agent.sent_until < 1.5
    callee = await telephony.persona_report(result.provider_call_id)
    assert callee.persona == "hangs_up" and callee.hung_up_by == "callee"
    assert [s.text for s in callee.spoken] == ["Yes, that works for me."]
