"""Browser calls over the WebSocket, against a real server on a local port: who may call
(API key; public key from a whitelisted origin only), and a whole call with fake engines —
agent audio comes back, the caller's words are captioned, and the call is settled,
recorded and analysed like a phone call."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
import websockets
from websockets.asyncio.client import ClientConnection

from callwright.api.app import create_app
from callwright.bootstrap import Overrides
from callwright.domain.assistant import VersionSettings
from callwright.domain.voices import VoiceEntry
from callwright.media.config import Engines
from callwright.providers.base import FRAME_BYTES, SAMPLE_RATE_HZ, LanguageModel
from callwright.services import workspaces
from callwright.services.web_calls import normalize_origin, origin_allowed
from callwright.settings import Settings
from callwright.testing import FakeSTT, FakeVAD, ScriptedLLM
from tests.api.bodies import public_agent
from tests.calls.conftest import ANALYSIS, ToneTTS

QUESTION = "What are your opening hours?"
ANSWER = "We are open from nine to six. Goodbye!"
SITE = "http://shop.example.test:8123"


class WebEngines:
    def __init__(self) -> None:
        self.llm = ScriptedLLM([ANSWER])

    async def for_call(self, settings: VersionSettings, voice: VoiceEntry) -> Engines:
        return Engines(vad=FakeVAD(), stt=FakeSTT(texts=[QUESTION]), llm=self.llm, tts=ToneTTS())

    async def analysis_llm(self, settings: VersionSettings) -> LanguageModel:
        return ScriptedLLM(["unused"], json_reply=ANALYSIS)


@dataclass
class Server:
    http: httpx.AsyncClient
    ws_url: str
    api_key: str
    agent: dict[str, Any]
    engines: WebEngines
    app: Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    engines = WebEngines()
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, rate_limit_per_s=0)
    app = create_app(settings, overrides=Overrides(engines=engines, memory_jobs=True))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    try:
        while not uv.started:
            assert not task.done(), "server did not start"
            await asyncio.sleep(0.02)
        ws = await workspaces.create_workspace(
            app.state.container.uow, name="Web", credits=100, sim_number="+15550109999"
        )
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(
            base_url=f"{base}/ca/api/v0", headers={"X-API-KEY": ws.api_key}, timeout=20
        ) as http:
            created = await http.post("/public/agent", json=public_agent(intro_message="Hi there!"))
            agent_id = created.json()["data"]["id"]
            detail = (await http.get(f"/agent/{agent_id}")).json()["agents"]
            ws_url = f"ws://127.0.0.1:{port}/ca/api/v0/webcall/ws"
            yield Server(http, ws_url, ws.api_key, detail, engines, app)
    finally:
        uv.should_exit = True
        await task


def _tone(ms: int, amplitude: int = 6000, rate_hz: int = SAMPLE_RATE_HZ) -> bytes:
    t = np.arange(rate_hz * ms // 1000) / rate_hz
    return (np.sin(2 * np.pi * 220 * t) * amplitude).astype("<i2").tobytes()


async def _open(url: str, start: dict[str, Any], origin: str | None = None) -> ClientConnection:
    headers = {"Origin": origin} if origin else None
    conn = await websockets.connect(url, additional_headers=headers, open_timeout=5)
    await conn.send(json.dumps({"type": "start", **start}))
    return conn


async def _refused(conn: ClientConnection) -> tuple[dict[str, Any], int | None]:
    message = json.loads(await asyncio.wait_for(conn.recv(), 5))
    with contextlib.suppress(websockets.ConnectionClosed):
        await asyncio.wait_for(conn.recv(), 5)
    return message, conn.close_code


@pytest.mark.parametrize("rate_hz", [16_000, 48_000])  # 48 kHz: resampled at the edge
async def test_a_browser_call_is_heard_answered_recorded_and_analysed(
    server: Server, rate_hz: int
) -> None:
    start = {"agent_id": server.agent["id"], "api_key": server.api_key, "sample_rate_hz": rate_hz}
    conn = await _open(server.ws_url, {**start, "variables": {"plan": "gold"}})
    started = json.loads(await asyncio.wait_for(conn.recv(), 10))
    assert started["type"] == "started" and started["sample_rate_hz"] == 16000
    call_id = started["call_id"]

    agent_audio = 0
    texts: list[dict[str, Any]] = []

    async def listen() -> None:
        nonlocal agent_audio
        async for message in conn:
            if isinstance(message, bytes):
                assert len(message) == FRAME_BYTES
                agent_audio += len(message)
            else:
                texts.append(json.loads(message))
                if texts[-1]["type"] in ("ended", "error"):
                    return

    listening = asyncio.create_task(listen())
    # Speak (a loud tone the energy VAD hears as speech) in 20 ms messages, then stay quiet,
    # at real time, like a microphone: 30 ms chunks check that the server re-frames audio.
    utterance = _tone(600, rate_hz=rate_hz) + bytes(2 * rate_hz * 3)
    chunk = 2 * rate_hz * 30 // 1000
    for i in range(0, len(utterance), chunk):
        await conn.send(utterance[i : i + chunk])
        await asyncio.sleep(0.03)
        if any(t["type"] == "hangup" for t in texts):
            break
    await asyncio.wait_for(listening, 15)

    assert {"type": "transcript", "role": "user", "text": QUESTION} in texts
    assert texts[-1] == {"type": "ended", "call_id": call_id, "end_reason": "agent_hangup"}
    assert agent_audio > 16000 * 2 * 0.5  # intro and answer: at least half a second of audio

    details = await _details(server.http, call_id)
    assert details["call_direction"] == "webcall"
    assert details["call_status"] == "completed"
    assert details["transcription_url"] == [
        {"bot": "Hi there!"},
        {"user": QUESTION},
        {"bot": ANSWER},
    ]
    assert details["custom_args_values"] == {"plan": "gold"}
    assert details["recording_url"]
    assert details["platform_analysis"]["summary"] == ANALYSIS["summary"]
    history = await server.http.get("/calling/history", params={"agent_id": server.agent["id"]})
    assert [c["call_type"] for c in history.json()["calls"]] == ["webcall"]
    workspace = (await server.http.get("/workspace")).json()["workspace_info"]
    assert workspace["locked_credits"] == 0  # settled


async def _details(http: httpx.AsyncClient, call_id: str) -> dict[str, Any]:
    for _ in range(200):
        r = await http.get("/calling/call-details", params={"id": call_id, "send_analysis": True})
        data: dict[str, Any] = r.json()["data"]
        if data["call_status"] == "completed" and data["platform_analysis_status"] != "pending":
            return data
        await asyncio.sleep(0.05)
    raise AssertionError(data)


async def test_the_caller_hanging_up_ends_the_call(server: Server) -> None:
    conn = await _open(server.ws_url, {"agent_id": server.agent["id"], "api_key": server.api_key})
    started = json.loads(await asyncio.wait_for(conn.recv(), 10))
    await conn.send(bytes(FRAME_BYTES * 5))
    await conn.send(json.dumps({"type": "hangup"}))
    while True:
        message = await asyncio.wait_for(conn.recv(), 10)
        if isinstance(message, str) and json.loads(message)["type"] == "ended":
            break
    details = await _details(server.http, started["call_id"])
    assert details["end_reason"] == "caller_hangup"


async def test_the_widget_key_works_only_from_whitelisted_origins(server: Server) -> None:
    agent_id, key = server.agent["id"], server.agent["webcall_public_key"]
    assert key
    r = await server.http.patch(
        "/agent/v1",
        json={
            "operation": "edit_agent_whitelisted_domains",
            "agent_id": agent_id,
            "whitelisted_domains": [SITE],
        },
    )
    assert r.status_code == 200, r.text
    start = {"agent_id": agent_id, "public_key": key}

    conn = await _open(server.ws_url, start, origin=SITE)
    assert json.loads(await asyncio.wait_for(conn.recv(), 10))["type"] == "started"
    await conn.close()

    message, code = await _refused(await _open(server.ws_url, start, origin="http://evil.test"))
    assert (message["code"], code) == (403, 4403)
    assert "whitelisted" in message["message"]
    message, code = await _refused(await _open(server.ws_url, start))  # no Origin at all
    assert code == 4403
    bad = {**start, "public_key": key + "x"}
    message, code = await _refused(await _open(server.ws_url, bad, origin=SITE))
    assert (message["code"], code) == (401, 4401)

    rotated = await server.http.post(f"/webcall/agents/{agent_id}/public-key")
    assert rotated.status_code == 200
    _, code = await _refused(await _open(server.ws_url, start, origin=SITE))
    assert code == 4401  # the old key stopped working
    new = {**start, "public_key": rotated.json()["webcall_public_key"]}
    conn = await _open(server.ws_url, new, origin=SITE)
    assert json.loads(await asyncio.wait_for(conn.recv(), 10))["type"] == "started"
    await conn.close()


@pytest.mark.parametrize(
    ("start", "status"),
    [
        ({"agent_id": "nope", "api_key": "KEY"}, 404),
        ({"agent_id": "AGENT", "api_key": "cwk_wrong"}, 401),
        ({"agent_id": "AGENT"}, 401),
        ({"agent_id": "AGENT", "api_key": "KEY", "sample_rate_hz": 12345}, 400),
        ({"agent_id": "AGENT", "api_key": "KEY", "variables": ["x"]}, 400),
        ({"agent_id": "AGENT", "api_key": "KEY", "surprise": 1}, 400),
    ],
)
async def test_bad_start_messages_are_refused_with_a_reason(
    server: Server, start: dict[str, Any], status: int
) -> None:
    start = {
        k: {"KEY": server.api_key, "AGENT": server.agent["id"]}.get(v, v)
        if isinstance(v, str)
        else v
        for k, v in start.items()
    }
    message, code = await _refused(await _open(server.ws_url, start))
    assert message["type"] == "error" and message["code"] == status, message
    assert code == 4000 + status
    assert message["message"]


async def test_binary_first_message_and_no_credits_are_refused(server: Server) -> None:
    conn = await websockets.connect(server.ws_url)
    await conn.send(bytes(640))
    message, code = await _refused(conn)
    assert code == 4400 and "start" in message["message"]

    broke = await workspaces.create_workspace(
        server.app.state.container.uow, name="Broke", credits=0, sim_number="+15550108888"
    )
    async with httpx.AsyncClient(
        base_url=str(server.http.base_url), headers={"X-API-KEY": broke.api_key}
    ) as http:
        agent_id = (await http.post("/public/agent", json=public_agent())).json()["data"]["id"]
    start = {"agent_id": agent_id, "api_key": broke.api_key}
    message, code = await _refused(await _open(server.ws_url, start))
    assert (message["code"], code) == (402, 4402)


def test_origins_match_by_scheme_host_and_port() -> None:
    assert normalize_origin("HTTPS://Shop.Example:443/") == "https://shop.example"
    allowed = ["https://shop.example", "partner.test", "*.cdn.example"]
    assert origin_allowed("https://shop.example", allowed)
    assert not origin_allowed("http://shop.example", allowed)
    assert not origin_allowed("https://shop.example:8443", allowed)
    assert origin_allowed("http://partner.test:9000", allowed)
    assert origin_allowed("https://a.cdn.example", allowed)
    assert not origin_allowed("https://cdn.example", allowed)
    assert not origin_allowed("https://evilcdn.example", allowed)
    assert not origin_allowed("null", allowed)
    assert not origin_allowed(None, allowed)
