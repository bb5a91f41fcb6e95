"""Knowledge-base tests: the real API, job runner, database (SQLite and PostgreSQL), sim
network and embedding model; fake speech engines on the call's two ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from callwright.api.app import create_app
from callwright.bootstrap import Overrides
from callwright.domain.assistant import VersionSettings
from callwright.domain.voices import VoiceEntry
from callwright.media.config import Engines
from callwright.providers.base import ChatMessage, LanguageModel
from callwright.providers.telephony.sim import SimTelephony
from callwright.settings import Settings
from callwright.sim.network import SimNetwork
from callwright.testing import FakeSTT, FakeVAD, ScriptedLLM
from tests.calls.conftest import ToneTTS, fake_callee
from tests.conftest import Tenant


@dataclass
class AgentEngines:
    """The agent's engines for calls: scripted caller lines (STT) and a chosen LLM."""

    caller_lines: list[str] = field(default_factory=lambda: ["Hello?"])
    llm: Callable[[], LanguageModel] = lambda: ScriptedLLM(["Thank you. Goodbye!"])
    built: list[Engines] = field(default_factory=list)

    async def for_call(self, settings: VersionSettings, voice: VoiceEntry) -> Engines:
        engines = Engines(
            vad=FakeVAD(), stt=FakeSTT(texts=self.caller_lines), llm=self.llm(), tts=ToneTTS()
        )
        self.built.append(engines)
        return engines

    async def analysis_llm(self, settings: VersionSettings) -> LanguageModel:
        return ScriptedLLM(["unused"], json_reply={"summary": "ok"})


@dataclass
class KBPlatform:
    app: FastAPI
    network: SimNetwork
    engines: AgentEngines


@pytest.fixture
async def kb_platform(database_url: str, tmp_path: Path) -> AsyncIterator[KBPlatform]:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, rate_limit_per_s=0, ring_timeout_s=2
    )
    network = SimNetwork(log_dir=tmp_path / "sim")
    sim = SimTelephony(network=network, engines=fake_callee, ring_delay_s=0.05)
    engines = AgentEngines()
    app = create_app(
        settings, overrides=Overrides(engines=engines, telephony={"sim": sim}, memory_jobs=True)
    )
    async with app.router.lifespan_context(app):
        yield KBPlatform(app, network, engines)


@pytest.fixture
def app(kb_platform: KBPlatform) -> FastAPI:  # the shared tenant fixtures build on this app
    return kb_platform.app


Upload = tuple[str, tuple[str, bytes, str]]


def pdf_upload(name: str, data: bytes) -> Upload:
    return ("files", (name, data, "application/pdf"))


async def create_kb(
    t: Tenant,
    name: str = "Docs",
    *,
    files: Sequence[Upload] = (),
    urls: Sequence[str] | None = None,
    faqs: Sequence[dict[str, str]] | None = None,
) -> Any:
    import json

    data: dict[str, str] = {"kb_name": name}
    if urls is not None:
        data["urls"] = json.dumps(list(urls))
    if faqs is not None:
        data["faqs"] = json.dumps(list(faqs))
    return await t.client.post("/external/kb", data=data, files=list(files) or None)


async def wait_settled(app: FastAPI, t: Tenant, kb_id: str, timeout_s: float = 60) -> None:
    """Wait until the knowledge base is completed or failed. Polls the service, not the
    API: GET /external/kb/{id} allows 60 requests an hour, as Ringg's does."""
    knowledge = app.state.container.knowledge
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        view = await knowledge.get(t.workspace_id, kb_id)
        if view["status"] in ("completed", "failed"):
            return
        assert asyncio.get_running_loop().time() < deadline, view
        await asyncio.sleep(0.05)


def system_prompt_of(messages: Sequence[ChatMessage]) -> str:
    return messages[0].content if messages and messages[0].role == "system" else ""
