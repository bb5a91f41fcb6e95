"""The offline providers through the registry: shape, lazy loading, option errors.

Importing the provider modules needs no engine installed, so this file runs without the
``engines`` extra too.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import SecretStr

from callwright.providers import registry
from callwright.providers.base import (
    EngineSpec,
    ErrorCategory,
    LanguageModel,
    Provider,
    ProviderError,
    SpeechToText,
    TextToSpeech,
    VoiceActivityDetector,
)
from callwright.providers.llm.local import LocalLLM
from callwright.providers.llm.openai import OpenAIChat
from callwright.providers.stt.pocketsphinx import PocketSphinxSTT
from callwright.providers.stt.whisper import WhisperSTT
from callwright.providers.tts.espeak import EspeakTTS
from callwright.providers.tts.piper import PiperTTS
from callwright.providers.vad.silero import SileroDetector
from callwright.providers.vad.webrtc import WebRtcDetector

MINE = [
    ("vad", "silero"),
    ("vad", "webrtc"),
    ("stt", "whisper"),
    ("stt", "pocketsphinx"),
    ("tts", "piper"),
    ("tts", "espeak"),
    ("llm", "openai"),
    ("llm", "local"),
]


@pytest.mark.parametrize(("kind", "name"), MINE)
def test_each_module_exposes_a_provider(kind: str, name: str) -> None:
    provider = registry.load(kind, name)
    assert isinstance(provider, Provider)
    assert (provider.kind, provider.name, provider.extra) == (kind, name, "engines")
    model = provider.config_model()
    model.model_validate({})  # every option has a default
    with pytest.raises(ProviderError) as excinfo:
        registry.config_for(provider, {"no_such_option": 1})
    assert excinfo.value.category is ErrorCategory.BAD_REQUEST


def test_importing_providers_loads_no_engine() -> None:
    """Models and heavy engine libraries load on first create, never at import time."""
    modules = ", ".join(f"callwright.providers.{k}.{n}" for k, n in MINE)
    code = (
        f"import sys, {modules}\n"
        "heavy = {'onnxruntime', 'faster_whisper', 'ctranslate2', 'xllamacpp', 'piper',"
        " 'pocketsphinx', 'soxr', 'webrtcvad'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_unknown_provider_is_bad_request() -> None:
    for kind, name in [("stt", "nosuch"), ("tts", "../etc"), ("nokind", "whisper")]:
        with pytest.raises(ProviderError) as excinfo:
            registry.create(kind, EngineSpec(name))
        assert excinfo.value.category is ErrorCategory.BAD_REQUEST


@pytest.mark.parametrize(
    ("kind", "spec"),
    [
        ("stt", EngineSpec("whisper", {"beam_size": 0})),
        ("stt", EngineSpec("whisper", {"compute_type": "float16"})),
        ("tts", EngineSpec("piper", {"length_scale": -1})),
        ("tts", EngineSpec("espeak", {"voice": "-v --evil"})),
        ("vad", EngineSpec("silero", {"intra_op_threads": 0})),
        ("llm", EngineSpec("local", {"context_tokens": 10})),
        ("llm", EngineSpec("openai", {"timeout_s": -1})),
    ],
)
def test_bad_option_is_bad_request_before_any_model_loads(kind: str, spec: EngineSpec) -> None:
    with pytest.raises(ProviderError) as excinfo:
        registry.create(kind, spec)
    assert excinfo.value.category is ErrorCategory.BAD_REQUEST
    assert spec.name in str(excinfo.value)


def test_secrets_are_secret_str() -> None:
    model = registry.load("llm", "openai").config_model()
    assert model.model_fields["api_key"].annotation == SecretStr | None


def _engines_satisfy_their_ports(
    silero: SileroDetector,
    webrtc: WebRtcDetector,
    whisper: WhisperSTT,
    sphinx: PocketSphinxSTT,
    piper: PiperTTS,
    espeak: EspeakTTS,
    openai: OpenAIChat,
    local: LocalLLM,
) -> None:
    """Never called: ``mypy --strict tests/providers`` checks these assignments."""
    vads: list[VoiceActivityDetector] = [silero, webrtc]
    stts: list[SpeechToText] = [whisper, sphinx]
    ttss: list[TextToSpeech] = [piper, espeak]
    llms: list[LanguageModel] = [openai, local]
    del vads, stts, ttss, llms
