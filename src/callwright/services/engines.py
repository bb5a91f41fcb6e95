"""Per-call speech and language engines, chosen by the assistant and built through the registry."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from callwright.domain.assistant import VersionSettings
from callwright.domain.voices import DEFAULT_VOICE, VoiceEntry
from callwright.media.config import Engines
from callwright.providers import registry
from callwright.providers.base import EngineSpec, LanguageModel


class EngineSource(Protocol):
    async def for_call(self, settings: VersionSettings, voice: VoiceEntry) -> Engines:
        """Engines for one call of an assistant version (VAD state is per call)."""
        ...

    async def analysis_llm(self, settings: VersionSettings) -> LanguageModel:
        """The LLM post-call analysis uses: the assistant's own."""
        ...


def llm_spec(settings: VersionSettings) -> EngineSpec:
    llm = settings.agent_config.llm
    options: dict[str, Any] = {
        k: v
        for k, v in llm.model_dump().items()
        if k not in ("provider", "temperature") and v is not None
    }
    if llm.provider == "local" and "model" in options:
        options["model_path"] = options.pop("model")  # a GGUF file for the in-process runtime
    return EngineSpec(llm.provider, options)


class RegistryEngines:
    """Builds engines with :mod:`callwright.providers.registry`. The first build of a provider
    loads its model (seconds, blocking): it runs in a thread so the event loop keeps going."""

    async def for_call(self, settings: VersionSettings, voice: VoiceEntry) -> Engines:
        ac = settings.agent_config
        voice = voice or DEFAULT_VOICE
        tts_options: dict[str, Any] = {"voice": voice.voice}
        if voice.provider == "piper" and ac.voice_speed != 1.0:
            tts_options["length_scale"] = round(1.0 / ac.voice_speed, 3)
        stt_options: dict[str, Any] = {}
        if ac.stt.model:
            stt_options["model_path"] = ac.stt.model
        vad, stt, llm, tts = await asyncio.gather(
            asyncio.to_thread(registry.create, "vad", EngineSpec(ac.vad.provider)),
            asyncio.to_thread(registry.create, "stt", EngineSpec(ac.stt.provider, stt_options)),
            asyncio.to_thread(registry.create, "llm", llm_spec(settings)),
            asyncio.to_thread(registry.create, "tts", EngineSpec(voice.provider, tts_options)),
        )
        return Engines(vad=vad, stt=stt, llm=llm, tts=tts)

    async def analysis_llm(self, settings: VersionSettings) -> LanguageModel:
        llm: LanguageModel = await asyncio.to_thread(registry.create, "llm", llm_spec(settings))
        return llm
