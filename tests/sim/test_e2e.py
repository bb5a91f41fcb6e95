"""Whole simulated calls with the real offline engines on both ends: the agent (silero,
whisper, the local LLM, piper in a CallSession) dials a simulated callee over the μ-law
line; the callee listens with silero + whisper and speaks with piper.

Timing bounds are measured on the callee's side of the line, as a person would hear it.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from callwright.media.config import CallRules, EndReason, SessionConfig
from callwright.providers.telephony.sim import SimTelephony
from callwright.sim.run import SimCallReport, run_sim_call

# A wedged call must not hold the suite for the global 300 s timeout.
pytestmark = [pytest.mark.engines, pytest.mark.slow, pytest.mark.timeout(120)]

FROM = "+15550100000"
TO = "+15551234567"
INTRO = "Hi @{{callee_name}}, this is Maya from Acme Insurance. When would suit you for a review?"
LONG_INTRO = (
    "Hi @{{callee_name}}, this is Maya from Acme Insurance. I am calling about your home "
    "policy, which renews next month, and I would like to walk you through the new options."
)


def _bot(report: SimCallReport) -> list[str]:
    assert report.result is not None
    return [e["bot"] for e in report.result.transcript if "bot" in e]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


async def test_conversation_greets_answers_and_ends(
    telephony: SimTelephony, session_config: SessionConfig
) -> None:
    report = await run_sim_call(
        session_config=replace(session_config, intro_message=INTRO),
        telephony=telephony,
        to_number=TO,
        from_number=FROM,
        variables={"callee_name": "Ravi"},
    )
    result, callee = report.result, report.persona
    assert result is not None and callee is not None
    # the callee heard the intro with the variable filled in, over the phone line
    assert "ravi" in _words(callee.heard[0].text)
    # it answered the question by its rules, and the agent heard that answer
    replies = [s for s in callee.spoken if s.kind == "reply"]
    assert replies[0].text == "Tomorrow morning at ten would be best for me."
    users = [e["user"].lower() for e in result.transcript if "user" in e]
    assert users and "tomorrow" in users[0]
    # the agent's answer is about what was said (the day or the time)
    answer = " ".join(_bot(report)[1:]).lower()
    assert {"tomorrow", "ten", "10"} & set(_words(answer)), answer
    # and the call ended by itself: goodbye -> one side hung up
    assert result.end_reason in (EndReason.AGENT_HANGUP, EndReason.CALLER_HANGUP)
    assert report.dial is not None and report.dial.ended_at_mono is not None
    assert result.turn_latencies and result.turn_latencies[0].first_audio_out_ms is not None
    print(f"\nturn latencies: {result.turn_latencies}")


async def test_barge_in_stops_the_agent_and_keeps_only_what_was_heard(
    telephony: SimTelephony, session_config: SessionConfig
) -> None:
    config = replace(
        session_config, intro_message=LONG_INTRO, rules=CallRules(max_call_length_s=25)
    )
    report = await run_sim_call(
        session_config=config,
        telephony=telephony,
        to_number=TO,
        from_number=FROM,
        variables={"callee_name": "Ravi"},
        persona="interrupter",
    )
    result, callee = report.result, report.persona
    assert result is not None and callee is not None
    (interrupt,) = [s for s in callee.spoken if s.kind == "interrupt"]
    assert interrupt.onset_mono is not None
    stop_s = callee.agent_audio_stop_s(interrupt.onset_mono)
    assert stop_s is not None
    budget_s = 0.3 + config.turns.pause_after_ms / 1000
    print(f"\nagent audio stopped {stop_s * 1000:.0f} ms after the callee's speech onset")
    assert stop_s <= budget_s
    assert result.interruptions >= 1 and report.clear_times_mono
    # the transcript keeps only the part of the intro the callee heard
    intro_heard = _bot(report)[0]
    full = LONG_INTRO.replace("@{{callee_name}}", "Ravi")
    assert full.startswith(intro_heard.rstrip(".")) or len(intro_heard) < len(full)
    assert "options" not in _words(intro_heard)
    assert "options" not in _words(callee.transcript())


async def test_backchannel_does_not_stop_the_agent(
    telephony: SimTelephony, session_config: SessionConfig
) -> None:
    config = replace(
        session_config, intro_message=LONG_INTRO, rules=CallRules(max_call_length_s=14)
    )
    report = await run_sim_call(
        session_config=config,
        telephony=telephony,
        to_number=TO,
        from_number=FROM,
        variables={"callee_name": "Ravi"},
        persona="backchanneler",
    )
    result, callee = report.result, report.persona
    assert result is not None and callee is not None
    (okay,) = [s for s in callee.spoken if s.kind == "backchannel"]
    assert okay.onset_mono is not None
    stop_s = callee.agent_audio_stop_s(okay.onset_mono)
    assert stop_s is not None and stop_s > 1.0  # the agent talked on through the "okay"
    assert result.interruptions == 0
    assert "options" in _words(callee.heard[0].text)  # the whole intro reached the callee
    assert "options" in _words(_bot(report)[0])


async def test_silent_callee_gets_idle_prompt_then_hang_up(
    telephony: SimTelephony, session_config: SessionConfig
) -> None:
    rules = CallRules(idle_timeout_warning_s=2.0, idle_timeout_end_s=5.0)
    report = await run_sim_call(
        session_config=replace(session_config, intro_message="Hello, this is Acme.", rules=rules),
        telephony=telephony,
        to_number=TO,
        from_number=FROM,
        persona="silent",
    )
    result, callee = report.result, report.persona
    assert result is not None and callee is not None
    assert result.end_reason is EndReason.IDLE_TIMEOUT
    assert callee.hung_up_by == "agent" and not callee.spoken
    assert _bot(report) == ["Hello, this is Acme.", rules.idle_warning_text]
    intro, warning = callee.heard[0], callee.heard[1]
    assert "still there" in warning.text.lower()
    gap = warning.start_mono - intro.end_mono
    assert rules.idle_timeout_warning_s - 0.3 <= gap <= rules.idle_timeout_warning_s + 0.6
    assert report.dial is not None and report.dial.ended_at_mono is not None
    silent_for = report.dial.ended_at_mono - intro.end_mono
    assert rules.idle_timeout_end_s - 0.3 <= silent_for <= rules.idle_timeout_end_s + 0.6


async def test_talkative_callee_hits_max_call_length(
    telephony: SimTelephony, session_config: SessionConfig
) -> None:
    rules = CallRules(max_call_length_s=8.0)
    report = await run_sim_call(
        session_config=replace(session_config, intro_message="Hello, this is Acme.", rules=rules),
        telephony=telephony,
        to_number=TO,
        from_number=FROM,
        persona="talkative",
    )
    result, callee = report.result, report.persona
    assert result is not None and callee is not None
    assert result.end_reason is EndReason.MAX_DURATION
    assert any(s.kind == "reply" for s in callee.spoken)  # it was talking
    assert _bot(report)[-1] == rules.wrap_up_text
    assert "time limit" in callee.transcript().lower()  # the wrap-up reached the callee
    assert rules.max_call_length_s <= result.duration_s <= rules.max_call_length_s + 8
    assert callee.hung_up_by == "agent"
