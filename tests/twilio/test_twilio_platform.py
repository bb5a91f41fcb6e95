"""The whole platform placing a call through Twilio: the Ringg API, the job runner, the
dialer, the CallSession (fake engines) and the Twilio provider against the fake Twilio,
wired by the composition root as in production (its own gateway, routes and directory)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from callwright.api.app import PREFIX, create_app
from callwright.bootstrap import Container, Overrides
from callwright.services import workspaces
from callwright.settings import Settings
from tests.api.bodies import public_agent
from tests.calls.conftest import FakeEngines, call_body
from tests.twilio.conftest import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    eventually,
    tone_ulaw,
)
from tests.twilio.fake_twilio import FakeTwilio, bound_socket, serve
from tests.twilio.test_twilio_session import agent_quiet

pytestmark = pytest.mark.timeout(90)


@dataclass
class Platform:
    client: httpx.AsyncClient  # speaks for one workspace
    twilio: FakeTwilio


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    sock = bound_socket()
    host, port = sock.getsockname()[:2]
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'cw.db'}",
        rate_limit_per_s=0,
        ring_timeout_s=5,
        public_url=f"http://{host}:{port}",
    )
    async with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as twilio:
        app: FastAPI = create_app(
            settings, overrides=Overrides(engines=FakeEngines(), memory_jobs=True)
        )
        async with app.router.lifespan_context(app):
            server, serving, url = await serve(app, sock=sock)
            container: Container = app.state.container
            ws = await workspaces.create_workspace(
                container.uow, name="Twilio", credits=100.0, sim_number="+15550100999"
            )
            async with httpx.AsyncClient(
                base_url=url + PREFIX, headers={"X-API-KEY": ws.api_key}, timeout=10
            ) as client:
                try:
                    yield Platform(client, twilio)
                finally:
                    server.should_exit = True
                    await serving


async def test_a_ringg_call_placed_through_twilio_completes_with_a_transcript(
    platform: Platform,
) -> None:
    client = platform.client
    r = await client.post(
        "/telephony/accounts",
        json={
            "provider": "twilio",
            "name": "Twilio",
            "credentials": {
                "account_sid": ACCOUNT_SID,
                "auth_token": AUTH_TOKEN,
                "api_base_url": platform.twilio.base_url,
            },
        },
    )
    assert r.status_code == 200, r.text
    account_id = r.json()["telephony_account"]["id"]
    r = await client.post(
        "/workspace/numbers/import",
        json={"telephony_account_id": account_id, "numbers": ["+14155550000"]},
    )
    assert r.status_code == 200, r.text
    number_id = r.json()["workspace_numbers"][0]["id"]
    r = await client.post("/public/agent", json=public_agent())
    agent_id = r.json()["data"]["id"]

    r = await client.post(
        "/calling/outbound/individual",
        json=call_body(agent_id, to="+14155550100", from_number_id=number_id),
    )
    assert r.status_code == 200, r.text
    call_id = r.json()["data"]["call_id"]

    await eventually(lambda: bool(platform.twilio.calls), timeout_s=20)
    (call,) = platform.twilio.calls.values()
    assert (call.from_, call.to) == ("+14155550000", "+14155550100")
    async with asyncio.timeout(20):
        await call.connected.wait()
    await agent_quiet(call)  # the intro played
    call.say(tone_ulaw(440, 0.8))  # "Yes, I would like a demo."

    deadline = asyncio.get_running_loop().time() + 30
    while True:
        r = await client.get("/calling/call-details", params={"id": call_id})
        data = r.json()["data"]
        if data["call_status"] not in ("registered", "ongoing"):
            break
        assert asyncio.get_running_loop().time() < deadline, data
        await asyncio.sleep(0.1)
    assert (data["call_status"], data["call_sub_status"]) == ("completed", "ACCEPTED"), data
    turns = data["transcription_url"]
    assert turns[0] == {"bot": "Hello Mr. Ravi Kumar, this is Sarah from Acme Corp."}
    assert {"user": "Yes, I would like a demo."} in turns
    assert any("book the demo" in t.get("bot", "") for t in turns)
    assert data["from_number"] == "+14155550000" and data["call_duration"] > 0
    async with asyncio.timeout(5):
        await call.ended.wait()
    assert call.close_code == 1000
