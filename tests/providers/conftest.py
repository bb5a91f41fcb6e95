"""Shared fixtures for the provider tests: real engines, loaded once per session.

Models are cached on each module's ``PROVIDER`` for the whole process anyway; the
session-scoped fixtures here just make every test reuse the same engines and the same
synthesized audio. Bundled models are joined into the default cache
(``$CALLWRIGHT_DATA_DIR/models`` or ``./.callwright/models``, git-ignored) once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from providers_testkit import SENTENCES, collect

from callwright.providers import registry
from callwright.providers.base import EngineSpec


@pytest.fixture(scope="session")
def piper_tts() -> Any:
    return registry.create("tts", EngineSpec("piper"))


@pytest.fixture(scope="session")
def piper_audio(piper_tts: Any) -> dict[str, bytes]:
    """Each of SENTENCES spoken by Piper, as 16 kHz PCM16."""

    async def speak_all() -> dict[str, bytes]:
        return {s: await collect(piper_tts.synthesize(s)) for s in SENTENCES}

    return asyncio.run(speak_all())


@pytest.fixture(scope="session")
def whisper_stt() -> Any:
    return registry.create("stt", EngineSpec("whisper", {"beam_size": 1}))


@pytest.fixture(scope="session")
def local_llm() -> Any:
    return registry.create("llm", EngineSpec("local"))
