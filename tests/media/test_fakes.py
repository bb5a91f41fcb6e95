"""The public fakes are honest: deterministic, port-shaped, and readable back."""

from __future__ import annotations

import numpy as np

from callwright.media.audio import Framer
from callwright.providers.base import ChatMessage
from callwright.testing import FakeSTT, FakeTTS, FakeVAD, ScriptedLLM, marker
from callwright.testing.pipeline import noise


def test_marker_round_trips_through_arbitrary_framing() -> None:
    text = "Hello, naan and chai — ठीक है!"
    pcm = marker.encode(text)
    assert len(pcm) == len(text.encode()) * 320 * 2
    framer = Framer()
    frames = [f for i in range(0, len(pcm), 999) for f in framer.push(pcm[i : i + 999])]
    tail = framer.flush()
    rejoined = b"".join(frames) + (tail or b"")
    assert marker.decode(bytes(3200) + rejoined + bytes(640)) == text
    assert marker.decode(noise(500)) == ""


async def test_fake_tts_and_stt_loop_back() -> None:
    tts = FakeTTS(ms_per_char=10, chunk_ms=30)
    chunks = [c async for c in tts.synthesize("see you soon")]
    assert len(chunks) > 1
    stt = FakeSTT(ms_per_char=10)
    assert (await stt.transcribe(b"".join(chunks))).text == "see you soon"
    scripted = FakeSTT(texts=["a", "b"])
    assert [(await scripted.transcribe(b"")).text for _ in range(3)] == ["a", "b", "a"]


def test_fake_vad_is_energy_based() -> None:
    vad = FakeVAD()
    assert vad.speech_probability(bytes(640)) == 0.0
    assert vad.speech_probability(marker.encode("a")) == 1.0
    quiet = (np.ones(320) * 100).astype("<i2").tobytes()
    assert vad.speech_probability(quiet) == 0.0


async def test_scripted_llm_streams_records_and_counts_early_close() -> None:
    llm = ScriptedLLM(["one two three", ["x", "y"]])
    msgs = [ChatMessage("user", "hi")]
    assert [d async for d in llm.stream(msgs)] == ["one ", "two ", "three"]
    it = llm.stream(msgs)
    assert await it.__anext__() == "x"
    await it.aclose()  # type: ignore[attr-defined]
    assert llm.closed_early == 1
    assert [d async for d in llm.stream(msgs)] == ["x", "y"]  # last reply repeats
    assert llm.requests[0] == tuple(msgs)
