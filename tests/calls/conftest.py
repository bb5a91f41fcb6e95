"""Calling tests: the real API, sim network and job runner; fake speech engines on both ends
(the conversation engines have their own tests; here the call lifecycle is under test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI

from callwright.api.app import create_app
from callwright.bootstrap import Overrides
from callwright.domain.assistant import VersionSettings
from callwright.domain.voices import VoiceEntry
from callwright.media.config import Engines
from callwright.providers.base import SAMPLE_RATE_HZ, LanguageModel
from callwright.providers.telephony.sim import SimTelephony
from callwright.settings import Settings
from callwright.sim.network import SimNetwork
from callwright.sim.persona import PersonaEngines
from callwright.testing import FakeSTT, FakeVAD, ScriptedLLM

ANALYSIS = {
    "summary": "The caller agreed to a demo.",
    "classification": "interested",
    "key_points": ["demo"],
    "callback_requested": False,
    "sentiment": "positive",
    "amount": 42,
}


class ToneTTS:
    """Instant TTS whose audio survives a phone line: a 300 Hz tone, 50 ms per character.
    (FakeTTS's marker code lives above 4 kHz, which an 8 kHz line removes.)"""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.texts.append(text)
        n = int(SAMPLE_RATE_HZ * 0.05 * max(1, len(text) // 4))
        t = np.arange(n) / SAMPLE_RATE_HZ
        yield (np.sin(2 * np.pi * 300 * t) * 8000).astype("<i2").tobytes()


class FakeEngines:
    """The agent's engines: energy VAD, scripted STT and LLM, marker TTS."""

    def __init__(self) -> None:
        self.llm_replies = ["Great, I will book the demo for you. Goodbye!"]

    async def for_call(self, settings: VersionSettings, voice: VoiceEntry) -> Engines:
        return Engines(
            vad=FakeVAD(),
            stt=FakeSTT(texts=["Yes, I would like a demo."]),
            llm=ScriptedLLM(self.llm_replies),
            tts=ToneTTS(),
        )

    async def analysis_llm(self, settings: VersionSettings) -> LanguageModel:
        return ScriptedLLM(["unused"], json_reply=ANALYSIS)


async def fake_callee(name: str) -> PersonaEngines:
    return PersonaEngines(vad=FakeVAD(), stt=FakeSTT(texts=["Hello there"]), tts=ToneTTS())


@dataclass
class Platform:
    app: FastAPI
    network: SimNetwork
    settings: Settings


@pytest.fixture
async def platform(database_url: str, tmp_path: Path) -> AsyncIterator[Platform]:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, rate_limit_per_s=0, ring_timeout_s=2
    )
    network = SimNetwork(log_dir=tmp_path / "sim")
    sim = SimTelephony(network=network, engines=fake_callee, ring_delay_s=0.05)
    app = create_app(
        settings,
        overrides=Overrides(engines=FakeEngines(), telephony={"sim": sim}, memory_jobs=True),
    )
    async with app.router.lifespan_context(app):
        yield Platform(app, network, settings)


@pytest.fixture
def app(platform: Platform) -> FastAPI:  # the shared tenant fixtures build on this app
    return platform.app


# The default calling window (00:00-23:00 Asia/Kolkata, Ringg's) is closed from 17:30 to
# 18:30 UTC: calls in tests open it all day so that none waits for the next morning.
ANY_HOUR = {"call_start_time": "00:00", "call_end_time": "00:00"}


def call_body(agent_id: str, to: str = "+14155550100", **extra: Any) -> dict[str, Any]:
    """An individual call's body; a ``call_config`` given is kept, its window opened all day
    unless it names one."""
    config = extra.pop("call_config", {})
    config = {**config, "call_time": {**ANY_HOUR, **config.get("call_time", {})}}
    return {
        "name": "Mr. Ravi Kumar",
        "mobile_number": to,
        "agent_id": agent_id,
        "call_config": config,
        **extra,
    }
