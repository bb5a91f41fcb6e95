"""Piper and espeak-ng produce real 16 kHz speech; Whisper checks Piper's words."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
import pytest
from providers_testkit import collect, normalise, pcm16_to_float

from callwright.domain.voices import CATALOGUE
from callwright.providers import registry
from callwright.providers.base import EngineSpec, ErrorCategory, ProviderError

pytestmark = pytest.mark.engines


def rms(pcm: bytes) -> float:
    return float(np.sqrt(np.mean(pcm16_to_float(pcm) ** 2)))


async def test_piper_yields_one_16k_chunk_per_sentence(piper_tts: Any, whisper_stt: Any) -> None:
    text = "Thank you for calling. Your package will arrive on Monday. Goodbye."
    chunks = [chunk async for chunk in piper_tts.synthesize(text)]
    assert len(chunks) == 3
    for chunk in chunks:
        assert len(chunk) % 2 == 0
        assert 0.3 < len(chunk) / 2 / 16_000 < 4.0  # plausible sentence durations at 16 kHz
        assert rms(chunk) > 0.02
    heard = await whisper_stt.transcribe(b"".join(chunks))
    # Piper samples noise, so its audio (and Whisper's hearing) varies slightly per run.
    assert jiwer.wer(normalise(text), normalise(heard.text)) <= 0.25, heard


async def test_piper_length_scale_slows_speech(piper_tts: Any) -> None:
    text = "Please hold while I check that for you."
    slow_tts = registry.create("tts", EngineSpec("piper", {"length_scale": 1.6}))
    # Piper draws phoneme durations with noise: compare a few takes, not one.
    normal = sum([len(await collect(piper_tts.synthesize(text))) for _ in range(3)])
    slow = sum([len(await collect(slow_tts.synthesize(text))) for _ in range(3)])
    assert slow > 1.25 * normal


async def test_piper_empty_text_yields_nothing(piper_tts: Any) -> None:
    assert await collect(piper_tts.synthesize("   ")) == b""


def test_piper_rejects_unknown_voice() -> None:
    with pytest.raises(ProviderError) as excinfo:
        registry.create("tts", EngineSpec("piper", {"voice": "en_GB-alan-low"}))
    assert excinfo.value.category is ErrorCategory.BAD_REQUEST


needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="apt espeak-ng")


@needs_espeak
@pytest.mark.parametrize("voice", ["en-us", "espeak:hi"])
async def test_espeak_produces_16k_audio(voice: str) -> None:
    tts = registry.create("tts", EngineSpec("espeak", {"voice": voice, "rate_wpm": 170}))
    text = "Hello, this is a test." if voice == "en-us" else "नमस्ते, आप कैसे हैं?"
    pcm = await collect(tts.synthesize(text))
    seconds = len(pcm) / 2 / 16_000
    assert 0.8 < seconds < 4.0
    assert rms(pcm) > 0.02


@needs_espeak
@pytest.mark.parametrize("voice_id", [v.key for v in CATALOGUE if v.provider == "espeak"])
async def test_every_catalogued_espeak_voice_speaks(voice_id: str) -> None:
    tts = registry.create("tts", EngineSpec("espeak", {"voice": voice_id}))
    assert rms(await collect(tts.synthesize("Hello, one two three."))) > 0.02


@needs_espeak
async def test_espeak_faster_rate_is_shorter_and_close_kills_process() -> None:
    text = "One two three four five six seven eight nine ten."
    slow = await collect(
        registry.create("tts", EngineSpec("espeak", {"rate_wpm": 120})).synthesize(text)
    )
    fast = await collect(
        registry.create("tts", EngineSpec("espeak", {"rate_wpm": 300})).synthesize(text)
    )
    assert len(fast) < 0.7 * len(slow)
    long_text = " ".join(["This sentence is long enough to stream in pieces."] * 40)
    stream = registry.create("tts", EngineSpec("espeak")).synthesize(long_text)
    first = await anext(stream)
    assert first
    # espeak-ng is now blocked on the full stdout pipe; closing must kill it.
    assert espeak_children()
    await stream.aclose()
    assert not espeak_children()


def espeak_children() -> list[int]:
    """Live (not zombie) espeak-ng processes whose parent is this test process."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            comm = fields[0].split("(", 1)[1]
            state, ppid = fields[1].split()[:2]
        except (OSError, IndexError):
            continue
        if comm == "espeak-ng" and int(ppid) == os.getpid() and state != "Z":
            found.append(int(stat.parent.name))
    return found


@needs_espeak
async def test_espeak_unknown_voice_is_bad_request() -> None:
    tts = registry.create("tts", EngineSpec("espeak", {"voice": "xx-nosuch"}))
    with pytest.raises(ProviderError) as excinfo:
        await collect(tts.synthesize("hello"))
    assert excinfo.value.category is ErrorCategory.BAD_REQUEST


def test_espeak_missing_binary_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ProviderError) as excinfo:
        registry.create("tts", EngineSpec("espeak"))
    assert excinfo.value.category is ErrorCategory.NOT_INSTALLED
    assert "espeak-ng" in str(excinfo.value)
