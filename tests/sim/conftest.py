"""Shared pieces for the simulated-network tests: real offline engines loaded once per
session, and an "agent side" driver that plays and records audio on a sim MediaStream
the way a call session does (20 ms frames on an absolute schedule)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from callwright.media.config import Engines, SessionConfig
from callwright.providers import registry
from callwright.providers.base import (
    EngineSpec,
    LanguageModel,
    SpeechToText,
    TextToSpeech,
)
from callwright.providers.telephony.sim import (
    EngineChoice,
    PersonaEngineFactory,
    SimTelephony,
    engines_from_registry,
)
from callwright.sim.network import SimNetwork


@dataclass(frozen=True)
class LoadedEngines:
    stt: SpeechToText
    tts: TextToSpeech


@pytest.fixture(scope="session")
def loaded_engines() -> LoadedEngines:
    """whisper-base and piper, loaded once (their providers share models per process)."""
    return LoadedEngines(
        stt=registry.create("stt", EngineSpec("whisper")),
        tts=registry.create("tts", EngineSpec("piper")),
    )


@pytest.fixture
def persona_engines(loaded_engines: LoadedEngines) -> PersonaEngineFactory:
    """The sim provider's own registry factory (silero, whisper with the callee's name as
    hint, piper); the models behind it are loaded once per process."""
    return engines_from_registry(
        vad=EngineChoice(name="silero"),
        stt=EngineChoice(name="whisper"),
        tts=EngineChoice(name="piper"),
    )


@pytest.fixture
def network(tmp_path: Path) -> SimNetwork:
    return SimNetwork(log_dir=tmp_path / "sim")


@pytest.fixture
async def telephony(
    network: SimNetwork, persona_engines: PersonaEngineFactory
) -> AsyncIterator[SimTelephony]:
    sim = SimTelephony(network=network, engines=persona_engines, ring_delay_s=0.05)
    yield sim
    await sim.aclose()


@pytest.fixture(scope="session")
def agent_engines(loaded_engines: LoadedEngines) -> tuple[LanguageModel, TextToSpeech]:
    """The agent's LLM (the in-process local model) and TTS, loaded once."""
    return registry.create("llm", EngineSpec("local")), loaded_engines.tts


@pytest.fixture
def session_config(
    agent_engines: tuple[LanguageModel, TextToSpeech], loaded_engines: LoadedEngines
) -> SessionConfig:
    """A short-replies agent on the real offline engines (fresh VAD state per call)."""
    llm, tts = agent_engines
    return SessionConfig(
        engines=Engines(
            vad=registry.create("vad", EngineSpec("silero")),
            stt=loaded_engines.stt,
            llm=llm,
            tts=tts,
        ),
        system_prompt=(
            "You are Maya from Acme Insurance, booking a policy review by phone. When the "
            "customer names a time, reply: 'Perfect, I have booked your review for' and the "
            "time they named."
        ),
        call_id="sim-e2e",
        record=False,
        llm_max_tokens=48,
    )
