"""The whole platform as `make run` composes it — real engines, real sim network, DBOS jobs —
driven through the API: create an assistant, call a simulated callee, read the results."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from callwright.api.app import create_app
from callwright.media.audio import stereo_channels, wav_to_pcm
from callwright.providers import registry
from callwright.providers.base import EngineSpec
from callwright.services import workspaces
from callwright.settings import Settings
from tests.api.bodies import JOE
from tests.calls.conftest import call_body


@pytest.mark.engines
@pytest.mark.slow
async def test_call_a_simulated_callee_end_to_end(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", rate_limit_per_s=0)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        c = app.state.container
        ws = await workspaces.create_workspace(
            c.uow, name="E2E", credits=100, sim_number="+15550100000"
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test/ca/api/v0",
            headers={"X-API-KEY": ws.api_key},
            timeout=60,
        ) as api:
            agent = await api.post(
                "/public/agent",
                json={
                    "agent_name": "Acme renewals",
                    "introduction_and_objective": "You are Maya, calling from Acme Internet "
                    "about the customer's plan renewal.",
                    "response_guidelines": "Answer in one short sentence.",
                    "task": "Ask whether the customer wants to renew the plan. If they agree, "
                    "thank them and say goodbye.",
                    "primary_language": "en-US",
                    "voice_id": JOE.id,
                    "intro_message": "Hello @{{callee_name}}, this is Maya from Acme Internet. "
                    "Would you like to renew your plan?",
                },
            )
            agent_id = agent.json()["data"]["id"]
            labels = {"interested": "agreed or wants to renew", "not_interested": "declined"}
            await api.patch(
                "/agent/v1",
                json={
                    "operation": "edit_classification_labels",
                    "agent_id": agent_id,
                    "classification_labels": labels,
                },
            )
            number = (await api.get("/workspace/numbers")).json()["workspace_numbers"][0]
            r = await api.post(
                "/calling/outbound/individual",
                json=call_body(
                    agent_id,
                    "+14155550142",
                    name="Ravi",
                    from_number_id=number["id"],
                    call_config={"max_call_length": 60},
                ),
            )
            assert r.status_code == 200, r.text
            call_id = r.json()["data"]["call_id"]
            details = await _finished(api, call_id, timeout_s=240)

            assert details["call_status"] == "completed", details
            turns = details["transcription_url"]
            assert "Ravi" in turns[0]["bot"] and "renew" in turns[0]["bot"]
            assert any("user" in t for t in turns), turns
            analysis = details["platform_analysis"]
            assert analysis["summary"]
            assert analysis["classification"] in labels

            url = urlsplit(details["recording_url"])
            wav = await api.get(f"{url.path.removeprefix('/ca/api/v0')}?{url.query}")
            assert wav.status_code == 200
            pcm, rate, channels = wav_to_pcm(wav.content)
            assert (rate, channels) == (16000, 2)
            _, agent_side = stereo_channels(pcm)
            stt = registry.create("stt", EngineSpec("whisper"))
            heard = (await stt.transcribe(agent_side[: rate * 2 * 8], language="en")).text
            # whisper-base mishears names ("Maya" -> "my"); count the intro's words it heard.
            intro = words(turns[0]["bot"])
            assert len(intro & words(heard)) >= 0.7 * len(intro), heard


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


async def _finished(api: httpx.AsyncClient, call_id: str, *, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        r = await api.get("/calling/call-details", params={"id": call_id, "send_analysis": True})
        data: dict[str, Any] = r.json()["data"]
        if data["call_status"] not in ("registered", "ongoing", "retry") and data[
            "platform_analysis_status"
        ] not in ("pending",):
            return data
        assert time.monotonic() < deadline, data
        await asyncio.sleep(1)
