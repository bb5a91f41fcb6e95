#!/usr/bin/env python3
"""Turn latency of the call engine.

(a) ``--part orchestration``: the engine's own overhead per turn with instant fake engines
    (FakeVAD/FakeSTT/ScriptedLLM/FakeTTS from callwright.testing): from the endpoint
    decision (the caller's silence reached the threshold) to the first agent frame handed
    to the transport. 20 concurrent calls on one media clock, >= 200 turns.
    Goal: p50 <= 5 ms, p99 <= 20 ms.

(b) ``--part engines``: end of caller speech -> first agent audio frame out with the real
    offline engines loaded through ``callwright.providers.registry`` (silero VAD, whisper
    STT, local LLM, piper TTS). Caller sentences are synthesized once with piper at run
    time (no network). ``--mode naive`` (no speculative STT, whole reply to TTS at once) or
    ``optimised`` (speculative STT at a 200 ms pause, sentence-by-sentence TTS) or ``both``.
    >= 30 turns per mode; p50/p90 plus the per-stage medians. Goal: p50 <= 1.5 s.

Prints ONE JSON line.  Examples:
    .venv/bin/python bench/turn_latency.py --part orchestration
    .venv/bin/python bench/turn_latency.py --part engines --mode both --turns 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

CALLER_LINES = [
    "Hi, I would like to know the status of my order please.",
    "Can you tell me when it will be delivered?",
    "What are your opening hours on the weekend?",
    "Do you offer a cheaper plan for small teams?",
    "Okay, and how do I pay for it?",
]


def stats(values: Sequence[float]) -> dict[str, float | None]:
    from callwright.media.metrics import percentile

    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 2)

    return {
        "p50": r(percentile(values, 50)),
        "p90": r(percentile(values, 90)),
        "p99": r(percentile(values, 99)),
        "n": len(values),
    }


# ------------------------------------------------------------------ (a) orchestration


async def orchestration(args: argparse.Namespace) -> dict[str, Any]:
    from callwright.media import CallRules, EndReason, Engines, MediaClock, SessionConfig
    from callwright.testing import (
        CallerEnd,
        FakeSTT,
        FakeTTS,
        FakeVAD,
        Say,
        ScriptedLLM,
        WaitForAgent,
        run_pipeline,
    )

    calls, turns_per_call = args.calls, max(1, -(-args.turns // args.calls))
    overhead: list[float] = []
    results = []
    async with MediaClock.running() as clock:

        async def one(i: int) -> Any:
            engines = Engines(
                vad=FakeVAD(),
                stt=FakeSTT(ms_per_char=10),
                llm=ScriptedLLM(["Sure, noted. What else?"]),
                tts=FakeTTS(ms_per_char=10),
            )
            cfg = SessionConfig(
                engines=engines, rules=CallRules(idle_timeout_warning_s=60, idle_timeout_end_s=120)
            )
            script: list[Any] = []
            for k in range(turns_per_call):
                script += [
                    Say(f"question {k} from caller {i}", ms_per_char=10),
                    WaitForAgent(quiet_s=0.15),
                ]
            return await run_pipeline(cfg, script, caller=CallerEnd(), clock=clock, timeout_s=300)

        results = await asyncio.gather(*[one(i) for i in range(calls)])
    for res in results:
        assert res.end_reason in (
            EndReason.CALLER_HANGUP,
            EndReason.IDLE_TIMEOUT,
            EndReason.AGENT_HANGUP,
        ), res
        for lat in res.turn_latencies:
            if lat.first_audio_out_ms is not None and lat.endpoint_ms is not None:
                overhead.append(lat.first_audio_out_ms - lat.endpoint_ms)
    s = stats(overhead)
    return {
        "bench": "turn_latency",
        "part": "orchestration",
        "what": "endpoint decision -> first agent frame to transport, instant fake engines",
        "calls": calls,
        "turns": len(overhead),
        "overhead_ms": s,
        "goal": {"p50_ms": 5, "p99_ms": 20},
        "meets_goal": bool(
            s["p50"] is not None and s["p50"] <= 5 and s["p99"] is not None and s["p99"] <= 20
        ),
        "cpu_cores": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


# ------------------------------------------------------------------ (b) real engines


async def engines(args: argparse.Namespace) -> dict[str, Any]:
    from callwright.media import CallRules, Engines, MediaClock, SessionConfig, TurnSettings
    from callwright.media.session import CallSession
    from callwright.providers.base import ChatMessage, EngineSpec
    from callwright.providers.registry import create
    from callwright.testing import CallerEnd, Pause, WaitForAgent, play_script

    t_load = time.monotonic()
    tts = create("tts", EngineSpec("piper"))
    stt = create("stt", EngineSpec("whisper"))
    llm = create("llm", EngineSpec("local"))
    caller_audio = []
    for line in CALLER_LINES:
        pcm = b"".join([chunk async for chunk in tts.synthesize(line)])
        caller_audio.append(pcm)
    # warm every engine once so the first measured turn does not pay for model loading
    await stt.transcribe(caller_audio[0])
    async for _ in llm.stream([ChatMessage("user", "hi")], max_tokens=4):
        pass
    load_s = time.monotonic() - t_load

    modes = ["naive", "optimised"] if args.mode == "both" else [args.mode]
    out: dict[str, Any] = {}
    for mode in modes:
        optimised = mode == "optimised"
        turns_cfg = TurnSettings(
            speculative_stt_ms=200 if optimised else 0,
            stream_sentences=optimised,
            endpoint_silence_ms=args.endpoint_ms,
        )
        totals: list[float] = []
        stages: dict[str, list[float]] = {
            "transcript": [],
            "first_token": [],
            "first_tts_audio": [],
            "first_audio_out": [],
        }
        spec_used = 0
        turns_left = args.turns
        async with MediaClock.running() as clock:
            while turns_left > 0:
                per_call = min(args.turns_per_call, turns_left)
                cfg = SessionConfig(
                    engines=Engines(
                        vad=create("vad", EngineSpec("silero")), stt=stt, llm=llm, tts=tts
                    ),
                    system_prompt=(
                        "You are a friendly customer-service agent for an online "
                        "shop. Answer in one or two short sentences."
                    ),
                    turns=turns_cfg,
                    llm_max_tokens=args.max_tokens,
                    rules=CallRules(
                        idle_timeout_warning_s=120,
                        idle_timeout_end_s=240,
                        max_call_length_s=900,
                        end_on_goodbye=False,
                    ),
                    record=False,
                )
                caller = CallerEnd()
                session = CallSession(config=cfg, stream=caller.stream, clock=clock)
                async with caller.connected():
                    run = asyncio.create_task(session.run())
                    await asyncio.sleep(0.3)
                    for k in range(per_call):
                        await caller.say(
                            caller_audio[(args.turns - turns_left + k) % len(caller_audio)]
                        )
                        await play_script(
                            caller, [WaitForAgent(quiet_s=0.7, timeout_s=60), Pause(0.2)]
                        )
                    caller.hang_up()
                    result = await run
                for lat in result.turn_latencies:
                    if lat.first_audio_out_ms is None:
                        continue
                    totals.append(lat.first_audio_out_ms)
                    spec_used += int(lat.speculative_stt_used)
                    for key in stages:
                        v = getattr(lat, f"{key}_ms")
                        if v is not None:
                            stages[key].append(v)
                turns_left -= per_call
        out[mode] = {
            "speech_end_to_first_audio_ms": stats(totals),
            "stage_p50_ms_after_speech_end": {k: stats(v)["p50"] for k, v in stages.items()},
            "speculative_stt_used": spec_used,
        }
    best = min((v["speech_end_to_first_audio_ms"]["p50"] or 1e9) for v in out.values())
    return {
        "bench": "turn_latency",
        "part": "engines",
        "what": "end of caller speech -> first agent audio frame out, real offline engines",
        "engines": {"vad": "silero", "stt": "whisper", "llm": "local", "tts": "piper"},
        "endpoint_silence_ms": args.endpoint_ms,
        "llm_max_tokens": args.max_tokens,
        "turns_per_mode": args.turns,
        "modes": out,
        "goal": {"p50_ms": 1500},
        "meets_goal": best <= 1500,
        "engine_load_s": round(load_s, 1),
        "cpu_cores": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--part", choices=["orchestration", "engines"], default="orchestration")
    p.add_argument("--mode", choices=["naive", "optimised", "both"], default="both")
    p.add_argument("--turns", type=int, default=None)
    p.add_argument("--calls", type=int, default=20, help="(a) concurrent calls")
    p.add_argument("--turns-per-call", type=int, default=5, help="(b) turns before a new call")
    p.add_argument("--endpoint-ms", type=int, default=500)
    p.add_argument("--max-tokens", type=int, default=48)
    args = p.parse_args(argv)
    if args.turns is None:
        args.turns = 240 if args.part == "orchestration" else 30
    fn = orchestration if args.part == "orchestration" else engines
    result = asyncio.run(fn(args))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
