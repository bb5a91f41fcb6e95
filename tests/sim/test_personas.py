"""Persona catalogue, description matching, keyword replies, and the callee-side barge-in
measurement (pure logic: no engines)."""

from __future__ import annotations

import pytest

from callwright.sim.personas import (
    CATALOGUE,
    COOPERATIVE,
    callee_name,
    cooperative_reply,
    is_goodbye,
    resolve_persona,
)
from callwright.sim.report import PersonaReport


def test_catalogue_has_the_named_behaviours() -> None:
    for name in (
        "cooperative",
        "interrupter",
        "backchanneler",
        "silent",
        "talkative",
        "questioner",
        "hangs_up",
        "voicemail",
    ):
        assert CATALOGUE[name].name == name and CATALOGUE[name].description
    assert CATALOGUE["interrupter"].interrupt is not None
    assert CATALOGUE["backchanneler"].backchannel is not None
    assert CATALOGUE["backchanneler"].backchannel.text.lower().startswith("okay")
    assert not CATALOGUE["silent"].speaks
    assert CATALOGUE["talkative"].repeat_replies and CATALOGUE["talkative"].yield_after_ms
    assert CATALOGUE["hangs_up"].hangup_after_agent_turns == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "cooperative"),
        ("", "cooperative"),
        ("interrupter", "interrupter"),
        ("Hangs Up", "hangs_up"),
        ("an impatient man who hangs up quickly", "hangs_up"),
        ("a quiet person who says nothing", "silent"),
        ("keeps interrupting the agent", "interrupter"),
        ("very chatty retiree", "talkative"),
        ("a curious student who asks a lot", "questioner"),
        ("a busy doctor", "cooperative"),
    ],
)
def test_resolve_persona(value: str | None, expected: str) -> None:
    spec = resolve_persona(value)
    assert spec.name == expected
    if value and value.lower().replace(" ", "_") not in CATALOGUE:
        assert spec.description == value  # a free description is kept as written


def test_callee_name_prefers_the_call_variable() -> None:
    assert callee_name(COOPERATIVE, {"callee_name": "Ravi"}) == "Ravi"
    assert callee_name(COOPERATIVE, {"callee_name": " "}) == COOPERATIVE.callee_name


@pytest.mark.parametrize(
    ("heard", "reply"),
    [
        ("Hi, am I speaking with Ravi?", "Yes, this is Ravi. My name is Ravi."),
        ("May I know your name please?", "Yes, this is Ravi. My name is Ravi."),
        ("Is this a good time to talk?", "Yes, that works for me."),
        ("Great. So, would you like to hear about our plans?", "Yes, that works for me."),
        ("When would suit you for a review?", "Tomorrow morning at ten would be best for me."),
        ("Perfect, I have booked your review for tomorrow.", "Great, thank you. Goodbye!"),
        ("How are you today?", "I am doing well, thank you. Yes, I have a minute."),
        ("I am calling about your policy.", "Okay, that sounds good. Please go on."),
        ("Thank you for your time, goodbye!", None),
        ("", None),
    ],
)
def test_cooperative_replies(heard: str, reply: str | None) -> None:
    assert cooperative_reply(heard, name="Ravi") == reply


def test_goodbye_detection() -> None:
    assert is_goodbye("Okay, bye.") and is_goodbye("Have a great day!")
    assert not is_goodbye("I will be by the office tomorrow")


def _report(levels: list[tuple[float, float]]) -> PersonaReport:
    return PersonaReport("x", 0.0, 10.0, "agent", (), (), tuple(levels))


def test_agent_audio_stop_is_the_end_of_the_speech_running_at_onset() -> None:
    ticks = [round(i * 0.02, 2) for i in range(300)]
    # agent talks 0-2 s (with a 0.2 s word gap at 1 s), then silence, then talks again at 4 s
    levels = [(t, 3000.0 if (t < 2.0 and not 1.0 <= t < 1.2) or t >= 4.0 else 0.0) for t in ticks]
    report = _report(levels)
    assert report.agent_audio_stop_s(0.5) == pytest.approx(1.48)  # 1.98 - 0.5
    assert report.agent_audio_stop_s(2.5) is None  # nothing playing at 2.5 s
    assert report.agent_audio_stop_s(2.1) == pytest.approx(0.0)  # it had just stopped
