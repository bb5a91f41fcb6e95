"""Browser calls and `callwright simulate` answer from the assistant's attached knowledge
bases, as phone calls do (tests/knowledge/test_call.py): the scripted LLM can only repeat
facts that reach it as knowledge excerpts."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from callwright.providers.base import SAMPLE_RATE_HZ
from callwright.providers.telephony.sim import SimTelephony
from callwright.services.simulation import simulate
from callwright.sim.network import SimNetwork
from callwright.testing import ScriptedLLM
from tests.api.test_webcall import _free_port, _open, _tone
from tests.calls.conftest import fake_callee
from tests.calls.test_calls_api import wait_status
from tests.conftest import Tenant
from tests.knowledge.conftest import KBPlatform
from tests.knowledge.fixtures import HARBOR_FACT
from tests.knowledge.test_call import QUESTIONS, bot_text, reader, setup_agent

ANSWER = HARBOR_FACT  # on page 2 of the handbook PDF


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """``app`` on a local port (its lifespan already entered by the fixture); the WS URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "server did not start"
            await asyncio.sleep(0.02)
        yield f"ws://127.0.0.1:{port}/ca/api/v0/webcall/ws"
    finally:
        server.should_exit = True
        await task


async def test_a_browser_call_answers_from_the_attached_knowledge_base(
    kb_platform: KBPlatform, tenant: Tenant
) -> None:
    kb_platform.engines.caller_lines = [QUESTIONS[0]]
    kb_platform.engines.llm = lambda: ScriptedLLM(reader)
    agent_id, _, _ = await setup_agent(tenant, kb_platform.app)
    async with served(kb_platform.app) as ws_url:
        conn = await _open(ws_url, {"agent_id": agent_id, "api_key": tenant.api_key})
        started = json.loads(await asyncio.wait_for(conn.recv(), 10))
        assert started["type"] == "started", started
        messages: list[dict[str, Any]] = []

        async def listen() -> None:
            async for message in conn:
                if isinstance(message, str):
                    messages.append(json.loads(message))
                    if messages[-1]["type"] in ("ended", "error"):
                        return

        listening = asyncio.create_task(listen())
        # The question (a tone the energy VAD hears as speech), then three seconds of quiet
        # at real time while the agent looks it up and answers; then the caller hangs up.
        audio = _tone(600) + bytes(2 * SAMPLE_RATE_HZ * 3)
        frame = 2 * SAMPLE_RATE_HZ * 20 // 1000
        for i in range(0, len(audio), frame):
            await conn.send(audio[i : i + frame])
            await asyncio.sleep(0.02)
        await conn.send(json.dumps({"type": "hangup"}))
        await asyncio.wait_for(listening, 15)
    assert {"type": "transcript", "role": "user", "text": QUESTIONS[0]} in messages
    assert messages[-1]["type"] == "ended", messages

    details = await wait_status(tenant, started["call_id"], "completed")
    turns = details["transcription_url"]
    assert details["call_direction"] == "webcall"
    assert {"user": QUESTIONS[0]} in turns and ANSWER in bot_text(turns), turns


async def test_a_simulated_call_answers_from_the_attached_knowledge_base(
    kb_platform: KBPlatform, tenant: Tenant, tmp_path: Path
) -> None:
    kb_platform.engines.caller_lines = QUESTIONS
    kb_platform.engines.llm = lambda: ScriptedLLM(reader)
    agent_id, _, _ = await setup_agent(tenant, kb_platform.app)
    container = kb_platform.app.state.container
    network = SimTelephony(
        network=SimNetwork(log_dir=tmp_path / "simulate"), engines=fake_callee, ring_delay_s=0.05
    )
    try:
        sim = await simulate(
            container.uow,
            kb_platform.engines,
            agent_id=agent_id,
            to_number="+14155550100",
            persona=None,
            data_dir=tmp_path,
            knowledge=container.knowledge.retriever,
            telephony=network,
        )
    finally:
        await network.aclose()
    assert sim.report.result is not None, sim.report
    turns = [dict(t) for t in sim.report.result.transcript]
    assert {"user": QUESTIONS[0]} in turns, turns
    assert ANSWER in bot_text(turns), turns
    assert "Only trained service animals are allowed inside our stores." in bot_text(turns)
