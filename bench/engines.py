"""Measure the offline engines; print ONE JSON line of figures and conditions.

Run: ``.venv/bin/python tests/providers/engine_figures.py`` (not a test; a benchmark kept
beside the provider tests; meant to move to ``bench/engines.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "providers"))

from providers_testkit import phone_line

from callwright.providers import registry
from callwright.providers.base import ChatMessage, EngineSpec
from callwright.providers.vad import silero

SENTENCES = [
    "I would like to check the status of my order.",
    "Can you please transfer me to the billing department?",
    "My account number is four five six seven eight.",
    "Is there a cheaper plan available for my phone line?",
    "I need to update my home address and email.",
]
SYSTEM = ChatMessage(
    role="system",
    content="You are a polite phone agent for Acme Telecom. Answer in one or two short "
    "sentences. Facts: our office opens at 9 am and closes at 6 pm.",
)
QUESTIONS = [
    "Hi, my internet has been dropping every evening this week. What can I do?",
    "When does your office open?",
    "Can I cancel my contract after the 25th?",
]


def timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


async def speak(tts: Any, text: str) -> tuple[bytes, float, float]:
    started = time.perf_counter()
    first: float | None = None
    chunks = []
    async for chunk in tts.synthesize(text):
        first = first if first is not None else time.perf_counter() - started
        chunks.append(chunk)
    return b"".join(chunks), first or 0.0, time.perf_counter() - started


async def main() -> dict[str, Any]:
    figures: dict[str, Any] = {
        "conditions": {"cpus": os.cpu_count(), "load_before": os.getloadavg()}
    }
    loads: dict[str, float] = {}

    vad, loads["silero_s"] = timed(lambda: registry.create("vad", EngineSpec("silero")))
    piper, loads["piper_s"] = timed(lambda: registry.create("tts", EngineSpec("piper")))
    whisper, loads["whisper_s"] = timed(lambda: registry.create("stt", EngineSpec("whisper")))
    sphinx, loads["pocketsphinx_s"] = timed(
        lambda: registry.create("stt", EngineSpec("pocketsphinx"))
    )
    llm, loads["local_llm_s"] = timed(lambda: registry.create("llm", EngineSpec("local")))
    figures["load_s_with_cache_verify"] = loads

    # TTS per sentence.
    await speak(piper, "Warm up.")
    audio: dict[str, bytes] = {}
    piper_s, piper_first = [], []
    for sentence in SENTENCES:
        pcm, first, total = await speak(piper, sentence)
        audio[sentence] = pcm
        piper_s.append(total)
        piper_first.append(first)
    espeak = registry.create("tts", EngineSpec("espeak"))
    espeak_s = [(await speak(espeak, s))[2] for s in SENTENCES]
    seconds = sum(len(a) for a in audio.values()) / 2 / 16_000
    figures["tts"] = {
        "piper_s_per_sentence_mean": statistics.mean(piper_s),
        "piper_rtf": sum(piper_s) / seconds,
        "espeak_s_per_sentence_mean": statistics.mean(espeak_s),
    }

    # STT per utterance (phone-line audio).
    whisper_s, sphinx_s, heard = [], [], []
    for sentence in SENTENCES:
        line = phone_line(audio[sentence])
        transcript, took = await _atimed(whisper.transcribe(line))
        whisper_s.append(took)
        heard.append(transcript.text)
        sphinx_s.append((await _atimed(sphinx.transcribe(audio[sentence])))[1])
    figures["stt"] = {
        "whisper_s_per_utterance": [round(s, 3) for s in whisper_s],
        "whisper_s_mean": statistics.mean(whisper_s),
        "pocketsphinx_s_mean": statistics.mean(sphinx_s),
        "mean_utterance_s": seconds / len(SENTENCES),
        "whisper_heard": heard,
    }

    # LLM first token and decode speed.
    runs = []
    for question in QUESTIONS:
        started = time.perf_counter()
        stamps = []
        async for _ in llm.stream(
            [SYSTEM, ChatMessage(role="user", content=question)], max_tokens=80
        ):
            stamps.append(time.perf_counter() - started)
        decode = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
        runs.append(
            {
                "first_token_s": round(stamps[0], 3),
                "tokens": len(stamps),
                "tok_per_s": round(decode, 1),
            }
        )
    figures["local_llm"] = runs

    # Silero: cost per 512-sample window, one call at a time vs 200 calls batched.
    speech = b"".join(audio.values())
    frames = [speech[i : i + 1024] for i in range(0, len(speech) - 1024, 1024)][:200]  # 32 ms
    single = [registry.create("vad", EngineSpec("silero")) for _ in range(200)]
    started = time.perf_counter()
    for frame in frames[:50]:
        for detector in single:
            detector.speech_probability(frame)
    single_us = (time.perf_counter() - started) / (50 * 200) * 1e6
    batched = [registry.create("vad", EngineSpec("silero")) for _ in range(200)]
    started = time.perf_counter()
    for frame in frames[:50]:
        silero.speech_probabilities(batched, [frame] * 200)
    batched_us = (time.perf_counter() - started) / (50 * 200) * 1e6
    figures["silero_us_per_window"] = {
        "single": round(single_us, 1),
        "batched_200": round(batched_us, 1),
        "cpu_share_200_calls_single": round(single_us * 200 / 32_000, 3),
        "cpu_share_200_calls_batched": round(batched_us * 200 / 32_000, 3),
    }
    del vad
    figures["conditions"]["load_after"] = os.getloadavg()
    return figures


async def _atimed(awaitable: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = await awaitable
    return result, time.perf_counter() - started


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
