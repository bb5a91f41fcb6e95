"""Webhook delivery tests: the real app on SQLite and PostgreSQL, the sim network with fake
speech engines (as in tests/calls), in-memory jobs, and receivers on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from callwright.api.app import create_app
from callwright.bootstrap import Container, Overrides
from callwright.net.ssrf import AddressPolicy
from callwright.providers.telephony.sim import SimTelephony
from callwright.services import workspaces
from callwright.services.webhook_delivery import Clock
from callwright.settings import Settings
from callwright.sim.network import SimNetwork
from callwright.webhooks.retry import RetrySchedule
from tests.api.bodies import public_agent
from tests.calls.conftest import FakeEngines, fake_callee
from tests.conftest import Tenant

ALL_EVENTS = [
    "call_started",
    "call_completed",
    "recording_completed",
    "platform_analysis_completed",
    "client_analysis_completed",
    "all_processing_completed",
]

MakeApp = Callable[..., Any]


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> MakeApp:
    """``async with make_app(clock=..., schedule=..., policy=...) as app:`` a running app."""

    @asynccontextmanager
    async def make(
        *,
        clock: Clock | None = None,
        schedule: RetrySchedule | None = None,
        policy: AddressPolicy | None = None,
        timeout_s: float = 1.0,
        relay_interval_s: float = 0.1,
        memory_jobs: bool = True,
        engines: FakeEngines | None = None,
    ) -> AsyncIterator[FastAPI]:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            rate_limit_per_s=0,
            ring_timeout_s=2,
            webhook_timeout_s=timeout_s,
            webhook_relay_interval_s=relay_interval_s,
        )
        network = SimNetwork(log_dir=tmp_path / "sim")
        sim = SimTelephony(network=network, engines=fake_callee, ring_delay_s=0.05)
        app = create_app(
            settings,
            overrides=Overrides(
                engines=engines or FakeEngines(),
                telephony={"sim": sim},
                memory_jobs=memory_jobs,
                webhook_clock=clock,
                webhook_schedule=schedule,
                webhook_policy=policy,
            ),
        )
        async with app.router.lifespan_context(app):
            yield app

    return make


async def new_tenant(app: FastAPI, name: str = "Webhooks") -> Tenant:
    import secrets

    c: Container = app.state.container
    ws = await workspaces.create_workspace(
        c.uow, name=name, credits=100.0, sim_number=f"+1555{secrets.randbelow(10**7):07d}"
    )
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test/ca/api/v0",
        headers={"X-API-KEY": ws.api_key},
    )
    return Tenant(ws.workspace_id, ws.api_key, client)


async def agent_with_hooks(
    t: Tenant, urls: list[str], *, events: list[str] | None = None, **sub: Any
) -> str:
    r = await t.client.post("/public/agent", json=public_agent())
    agent_id: str = r.json()["data"]["id"]
    subs = [{"event_type": events or ALL_EVENTS, "callback_url": url, **sub} for url in urls]
    r = await t.client.patch(
        "/agent/v1",
        json={
            "operation": "edit_event_subscriptions",
            "agent_id": agent_id,
            "event_subscriptions": subs,
        },
    )
    assert r.status_code == 200, r.text
    return agent_id


async def endpoints(t: Tenant, agent_id: str) -> list[dict[str, Any]]:
    r = await t.client.get("/webhooks/endpoints", params={"agent_id": agent_id})
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["endpoints"]
    return found


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout_s: float = 20) -> None:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
