"""Whole calls through CallSession with the public fakes, over the loopback phone line.

The caller end plays the agent's audio in real time, so timings here are real: they are
kept short (10 ms per character of marker "speech", second-scale call rules).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import replace

import pytest

from callwright.media import (
    CallRules,
    CallSession,
    EndReason,
    Engines,
    MediaClock,
    SessionConfig,
    TurnSettings,
)
from callwright.media.audio import stereo_channels, wav_to_pcm
from callwright.providers.base import ChatMessage
from callwright.testing import (
    CallerEnd,
    FakeSTT,
    FakeTTS,
    FakeVAD,
    HangUp,
    Noise,
    Pause,
    Say,
    ScriptedLLM,
    WaitForAgent,
    marker,
    run_pipeline,
)

MS = 10  # ms of marker audio per character, agent and caller alike
LONG = (
    "Our premium plan includes unlimited calls, priority support and a dedicated "
    "account manager. It costs forty dollars a month and you can cancel anytime."
)


def config(llm: ScriptedLLM, **kw: object) -> SessionConfig:
    engines = Engines(
        vad=FakeVAD(), stt=FakeSTT(ms_per_char=MS), llm=llm, tts=FakeTTS(ms_per_char=MS)
    )
    base = SessionConfig(
        engines=engines, rules=CallRules(idle_timeout_warning_s=30, idle_timeout_end_s=60)
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def say(text: str) -> Say:
    return Say(text, ms_per_char=MS)


def heard_text(caller: CallerEnd, until: float = float("inf")) -> str:
    """What the caller's phone played (decoded), up to ``until``."""
    return marker.decode(b"".join(f for t, f in caller.played if t <= until), ms_per_char=MS)


def squash(text: str) -> str:
    """Text without whitespace: sentences are synthesized separately, so the marker audio
    carries no space between them."""
    return "".join(text.split())


def user_messages(msgs: tuple[ChatMessage, ...]) -> list[str]:
    return [m.content for m in msgs if m.role == "user"]


async def test_intro_is_spoken_first_with_variables_filled() -> None:
    llm = ScriptedLLM(["Fine, thanks."])
    caller = CallerEnd()
    result = await run_pipeline(
        config(
            llm,
            intro_message="Hello @{{name}}, calling about {{topic}}.",
            variables={"name": "Ravi", "topic": "your order"},
        ),
        [WaitForAgent(), HangUp()],
        caller=caller,
    )
    assert result.end_reason is EndReason.CALLER_HANGUP
    assert result.transcript[0] == {"bot": "Hello Ravi, calling about your order."}
    assert heard_text(caller) == "Hello Ravi, calling about your order."
    assert llm.requests == []  # nobody spoke, so the LLM was never asked


async def test_a_turn_is_answered_and_measured() -> None:
    llm = ScriptedLLM(["It ships tomorrow. Anything else?"])
    caller = CallerEnd()
    result = await run_pipeline(
        config(llm), [say("where is my order"), WaitForAgent(), HangUp()], caller=caller
    )
    assert result.transcript == (
        {"user": "where is my order"},
        {"bot": "It ships tomorrow. Anything else?"},
    )
    assert user_messages(llm.requests[0]) == ["where is my order"]
    assert llm.requests[0][0].role == "system"
    (lat,) = result.turn_latencies
    assert lat.speculative_stt_used
    assert lat.transcript_ms is not None and lat.first_audio_out_ms is not None
    assert 480 <= lat.transcript_ms <= 600  # the 500 ms endpoint dominates
    overhead = lat.first_audio_out_ms - lat.transcript_ms
    assert 0 <= overhead < 30
    assert lat.transcript_ms <= lat.first_token_ms <= lat.first_tts_audio_ms  # type: ignore[operator]


async def test_barge_in_stops_agent_quickly_and_history_keeps_heard_part() -> None:
    llm = ScriptedLLM([LONG, "Sure, the basic plan is ten dollars."])
    caller = CallerEnd()
    result = await run_pipeline(
        config(llm),
        [
            say("tell me about plans"),
            Pause(1.2),
            say("what about the basic plan for teams"),
            WaitForAgent(),
            HangUp(),
        ],
        caller=caller,
    )
    assert result.interruptions == 1
    onset = caller.speech_onsets[1]
    # the first reply's audio ends at the first gap in agent frames after the onset
    after = [t for t, _ in caller.received if t >= onset]
    cut = next(a for a, b in itertools.pairwise(after) if b - a > 0.1)
    assert cut - onset <= (300 + 300) / 1000
    assert caller.clears, "transport must be told to flush (clear)"
    second = llm.requests[1]
    assistant = [m.content for m in second if m.role == "assistant"]
    assert len(assistant) == 1
    heard = assistant[0]
    assert heard and LONG.startswith(heard) and len(heard) < len(LONG)
    # history holds what the caller actually heard of that reply, to the word
    played = squash(heard_text(caller, until=cut + 0.1))
    assert len(played) - 15 <= len(squash(heard)) <= len(played) + 1
    assert user_messages(second) == ["tell me about plans", "what about the basic plan for teams"]
    assert result.transcript[1] == {"bot": heard}


async def test_barge_in_cancels_generation_in_flight() -> None:
    llm = ScriptedLLM([LONG, "Okay."], delta_delay_s=0.05)  # ~1.2 s to generate LONG
    result = await run_pipeline(
        config(llm),
        [say("plans please"), Pause(1.0), say("stop stop"), Pause(0.7), WaitForAgent(), HangUp()],
    )
    assert result.interruptions == 1
    assert llm.closed_early == 1  # the stream was closed: generation stopped


async def test_backchannel_does_not_interrupt() -> None:
    llm = ScriptedLLM([LONG])
    caller = CallerEnd()
    okays = "okay yeah right sure okay alright mhm okay yes"  # 460 ms: over the minimum
    result = await run_pipeline(
        config(llm),
        [say("plans please"), Pause(0.8), say(okays), WaitForAgent(), HangUp()],
        caller=caller,
    )
    assert result.interruptions == 0
    assert squash(heard_text(caller)) == squash(LONG)  # every word played, once
    bots = [e["bot"] for e in result.transcript if "bot" in e]
    assert bots == [LONG]
    assert {"user": okays} in result.transcript
    assert len(llm.requests) == 1  # "okay" did not start a new turn


async def test_stop_word_interrupts_even_when_short() -> None:
    llm = ScriptedLLM([LONG, "Sure."])
    result = await run_pipeline(
        config(llm), [say("plans please"), Pause(1.2), say("please stop"), WaitForAgent(), HangUp()]
    )
    assert result.interruptions == 1
    assert user_messages(llm.requests[1])[-1] == "please stop"


async def test_false_interruption_resumes_where_agent_paused() -> None:
    llm = ScriptedLLM([LONG])
    # a slow recognizer: the agent must pause before it knows the noise had no words
    cfg = config(llm)
    cfg = replace(cfg, engines=replace(cfg.engines, stt=FakeSTT(ms_per_char=MS, delay_s=0.4)))
    caller = CallerEnd()
    result = await run_pipeline(
        cfg,
        [say("plans please"), Pause(1.2), Noise(ms=900), WaitForAgent(quiet_s=0.8), HangUp()],
        caller=caller,
    )
    assert result.interruptions == 0
    assert result.false_interruptions == 1
    assert squash(heard_text(caller)) == squash(LONG)  # nothing skipped, nothing repeated
    assert [e for e in result.transcript if "bot" in e] == [{"bot": LONG}]
    # the agent really went quiet for a while during the noise, then carried on
    noise_onset = caller.speech_onsets[1]
    times = [t for t, _ in caller.received]
    gaps = [(a, b - a) for a, b in itertools.pairwise(times)]
    start, gap = max(gaps, key=lambda g: g[1])
    assert gap > 0.15
    assert 0.3 <= start - noise_onset <= 0.7  # paused at min_barge_in_ms + grace


async def test_short_cough_is_ignored_entirely() -> None:
    llm = ScriptedLLM([LONG])
    caller = CallerEnd()
    result = await run_pipeline(
        config(llm),
        [say("plans please"), Pause(1.0), Noise(ms=120), WaitForAgent(), HangUp()],
        caller=caller,
    )
    assert (result.interruptions, result.false_interruptions) == (0, 0)
    assert squash(heard_text(caller)) == squash(LONG)


async def test_idle_warning_then_idle_hangup() -> None:
    llm = ScriptedLLM(["unused"])
    rules = CallRules(
        idle_timeout_warning_s=1.0, idle_timeout_end_s=2.0, idle_warning_text="Are you there?"
    )
    t0 = time.monotonic()
    result = await run_pipeline(config(llm, intro_message="Hi.", rules=rules), [])
    assert result.end_reason is EndReason.IDLE_TIMEOUT
    assert result.transcript == ({"bot": "Hi."}, {"bot": "Are you there?"})
    assert 2.0 <= time.monotonic() - t0 < 3.5


async def test_caller_speech_resets_the_idle_timer() -> None:
    llm = ScriptedLLM(["Yes."])
    rules = CallRules(idle_timeout_warning_s=1.0, idle_timeout_end_s=1.6)
    result = await run_pipeline(
        config(llm, rules=rules), [Pause(0.6), say("hello"), WaitForAgent()]
    )
    assert result.end_reason is EndReason.IDLE_TIMEOUT
    assert result.transcript[:2] == ({"user": "hello"}, {"bot": "Yes."})
    assert result.duration_s > 0.6 + 1.6


async def test_max_call_length_wraps_up_and_hangs_up() -> None:
    llm = ScriptedLLM([LONG])
    rules = CallRules(max_call_length_s=1.5, wrap_up_text="Time is up, goodbye.")
    caller = CallerEnd()
    result = await run_pipeline(config(llm, rules=rules), [say("plans please")], caller=caller)
    assert result.end_reason is EndReason.MAX_DURATION
    assert result.transcript[-1] == {"bot": "Time is up, goodbye."}
    assert heard_text(caller).endswith("Time is up, goodbye.")
    assert caller.stream.hung_up
    assert 1.5 < result.duration_s < 3.5


async def test_agent_goodbye_ends_call_after_audio_played() -> None:
    llm = ScriptedLLM(["Thanks for calling, goodbye!"])
    caller = CallerEnd()
    result = await run_pipeline(config(llm), [say("that is all")], caller=caller)
    assert result.end_reason is EndReason.AGENT_HANGUP
    assert squash(heard_text(caller)) == squash("Thanks for calling, goodbye!")
    assert caller.stream.hung_up


async def test_caller_goodbye_then_agent_reply_ends_call() -> None:
    llm = ScriptedLLM(["Thank you for your time."])
    result = await run_pipeline(config(llm), [say("ok bye")])
    assert result.end_reason is EndReason.AGENT_HANGUP
    assert result.transcript[-1] == {"bot": "Thank you for your time."}


async def test_caller_hangup_mid_reply_keeps_heard_part_and_ends_every_task() -> None:
    llm = ScriptedLLM([LONG], delta_delay_s=0.02)
    caller = CallerEnd()
    before = asyncio.all_tasks()
    result = await run_pipeline(
        config(llm), [say("plans please"), Pause(1.0), HangUp()], caller=caller
    )
    assert result.end_reason is EndReason.CALLER_HANGUP
    bot = result.transcript[-1]["bot"]
    assert bot and LONG.startswith(bot) and len(bot) < len(LONG)
    await asyncio.sleep(0)
    assert asyncio.all_tasks() == before  # no receive/clock/STT/LLM task left behind
    assert not caller.stream.hung_up  # the caller hung up; we do not hang up again


async def test_sessions_share_one_clock_and_each_ends_cleanly() -> None:
    async with MediaClock.running() as clock:
        before = asyncio.all_tasks()
        llms = [ScriptedLLM([f"Answer number {i}. Goodbye!"]) for i in range(20)]
        results = await asyncio.gather(
            *[
                run_pipeline(config(llm), [say(f"question {i}")], clock=clock)
                for i, llm in enumerate(llms)
            ]
        )
        assert clock.sinks == 0
        await asyncio.sleep(0)
        assert asyncio.all_tasks() == before
    for i, r in enumerate(results):
        assert r.end_reason is EndReason.AGENT_HANGUP
        assert r.transcript == ({"user": f"question {i}"}, {"bot": f"Answer number {i}. Goodbye!"})


async def test_recording_is_stereo_caller_left_agent_right(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "call.wav"
    llm = ScriptedLLM(["Hello there, goodbye!"])
    result = await run_pipeline(config(llm, recording_path=path), [say("hi agent")])
    assert result.recording_path == path and result.recording_wav is None
    pcm, rate, channels = wav_to_pcm(path.read_bytes())
    assert (rate, channels) == (16000, 2)
    left, right = stereo_channels(pcm)
    assert marker.decode(left, ms_per_char=MS) == "hi agent"
    assert marker.decode(right, ms_per_char=MS) == "Hello there, goodbye!"
    assert len(left) / 32000 == pytest.approx(result.duration_s, abs=0.3)


async def test_naive_mode_synthesizes_whole_reply_at_once() -> None:
    llm = ScriptedLLM(["First sentence here. Second sentence here. Goodbye!"])
    tts = FakeTTS(ms_per_char=MS)
    cfg = config(llm, turns=TurnSettings(stream_sentences=False, speculative_stt_ms=0))
    cfg = replace(cfg, engines=replace(cfg.engines, tts=tts))
    result = await run_pipeline(cfg, [say("hello")])
    assert tts.texts == ["First sentence here. Second sentence here. Goodbye!"]
    assert not result.turn_latencies[0].speculative_stt_used
    streamed_tts = FakeTTS(ms_per_char=MS)
    cfg2 = replace(config(llm), engines=replace(cfg.engines, tts=streamed_tts))
    await run_pipeline(cfg2, [say("hello")])
    assert streamed_tts.texts == ["First sentence here.", "Second sentence here.", "Goodbye!"]


async def test_session_with_private_clock() -> None:
    llm = ScriptedLLM(["Bye now!"])
    caller = CallerEnd()
    session = CallSession(config=config(llm), stream=caller.stream)
    async with caller.connected():
        run = asyncio.create_task(session.run())
        await caller.say(marker.encode("hello", ms_per_char=MS))
        result = await asyncio.wait_for(run, 10)
    assert result.end_reason is EndReason.AGENT_HANGUP
