"""Whisper and PocketSphinx transcribe real Piper speech, including over a phone line."""

from __future__ import annotations

from typing import Any

import jiwer
import pytest
from providers_testkit import SENTENCES, normalise, phone_line

from callwright.providers import registry
from callwright.providers.base import EngineSpec, ErrorCategory, ProviderError

pytestmark = pytest.mark.engines


async def test_whisper_transcribes_piper_over_mulaw_phone_line(
    whisper_stt: Any, piper_audio: dict[str, bytes]
) -> None:
    for sentence in SENTENCES:
        transcript = await whisper_stt.transcribe(phone_line(piper_audio[sentence]))
        assert jiwer.wer(normalise(sentence), normalise(transcript.text)) <= 0.15, transcript
        assert transcript.language == "en"
        assert transcript.confidence is not None and 0.3 < transcript.confidence <= 1.0


async def test_whisper_accepts_bcp47_codes_and_rejects_unknown_languages(
    whisper_stt: Any, piper_audio: dict[str, bytes]
) -> None:
    audio = piper_audio[SENTENCES[0]]
    transcript = await whisper_stt.transcribe(audio, language="en-US")
    assert transcript.language == "en" and "status" in transcript.text.lower()
    with pytest.raises(ProviderError) as excinfo:
        await whisper_stt.transcribe(audio, language="xx")
    assert excinfo.value.category is ErrorCategory.BAD_REQUEST


async def test_whisper_gives_no_words_for_silence_and_empty_audio(whisper_stt: Any) -> None:
    assert (await whisper_stt.transcribe(b"")).text == ""
    silent = await whisper_stt.transcribe(bytes(16_000 * 2))
    assert len(normalise(silent.text).split()) <= 2  # Whisper may hallucinate a word or two


def test_whisper_reuses_one_model_per_process(whisper_stt: Any) -> None:
    other = registry.create("stt", EngineSpec("whisper", {"language": None}))
    assert other._model is whisper_stt._model


def test_whisper_model_path_without_model_is_not_installed(tmp_path: Any) -> None:
    with pytest.raises(ProviderError) as excinfo:
        registry.create("stt", EngineSpec("whisper", {"model_path": str(tmp_path)}))
    assert excinfo.value.category is ErrorCategory.NOT_INSTALLED


async def test_pocketsphinx_produces_words_from_piper(piper_audio: dict[str, bytes]) -> None:
    stt = registry.create("stt", EngineSpec("pocketsphinx"))
    sentence = SENTENCES[0]
    transcript = await stt.transcribe(piper_audio[sentence])
    words = set(normalise(transcript.text).split())
    assert len(words & set(normalise(sentence).split())) >= 4, transcript
    # Digital silence may still yield a stray filler word, never a sentence.
    assert len((await stt.transcribe(bytes(32_000))).text.split()) <= 1
    with pytest.raises(ProviderError) as excinfo:
        await stt.transcribe(piper_audio[sentence], language="hi")
    assert excinfo.value.category is ErrorCategory.BAD_REQUEST
