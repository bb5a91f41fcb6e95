"""The in-process platform (real API, database, memory jobs, fake engines) with the ``sip``
provider in place of the sim network, and helpers to set up a SIP account and numbers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from callwright.api.app import create_app
from callwright.bootstrap import Container, Overrides
from callwright.providers.telephony.sip import SipTelephony
from callwright.services import workspaces
from callwright.services.dialing import Dialer
from callwright.services.inbound import InboundCalls
from callwright.settings import Settings
from tests.api.bodies import public_agent
from tests.calls.conftest import FakeEngines


@dataclass
class SipPlatform:
    app: FastAPI
    container: Container
    api: httpx.AsyncClient
    telephony: SipTelephony
    engines: FakeEngines
    workspace_id: str

    async def sip_number(
        self, number: str, *, trunk_port: int, inbound: bool = False
    ) -> tuple[str, str]:
        """A SIP telephony account on 127.0.0.1:``trunk_port`` and ``number`` on it; returns
        the account's and the number's ids."""
        r = await self.api.post(
            "/telephony/accounts",
            json={
                "provider": "sip",
                "name": "Loopback trunk",
                "credentials": {"host": "127.0.0.1", "port": trunk_port},
            },
        )
        assert r.status_code == 200, r.text
        account_id = r.json()["telephony_account"]["id"]
        r = await self.api.post(
            "/workspace/numbers/import",
            json={
                "telephony_account_id": account_id,
                "numbers": [{"number": number, "is_inbound_enabled": inbound}],
            },
        )
        assert r.status_code == 200, r.text
        return account_id, str(r.json()["workspace_numbers"][0]["id"])

    async def agent(self, **overrides: Any) -> str:
        r = await self.api.post("/public/agent", json=public_agent(**overrides))
        assert r.status_code == 200, r.text
        return str(r.json()["data"]["id"])

    async def wait_call(
        self, call_id: str, *statuses: str, timeout_s: float = 20
    ) -> dict[str, Any]:
        async with asyncio.timeout(timeout_s):
            while True:
                r = await self.api.get("/calling/call-details", params={"id": call_id})
                data: dict[str, Any] = r.json()["data"]
                if data["call_status"] in statuses:
                    return data
                await asyncio.sleep(0.1)

    def inbound(self) -> InboundCalls:
        """The inbound service over the container's pieces (bootstrap wires the real one)."""
        c = self.container
        dialer = Dialer(
            uow=c.uow,
            engines=self.engines,
            telephony=c.telephony,
            recordings=c.recordings,
            credits_per_minute=c.settings.credits_per_minute,
            enqueue=c.jobs.enqueue,
        )
        return InboundCalls(dialer=dialer)


@asynccontextmanager
async def sip_platform(
    database_url: str, tmp_path: Path, telephony: SipTelephony
) -> AsyncIterator[SipPlatform]:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, rate_limit_per_s=0, ring_timeout_s=2
    )
    engines = FakeEngines()
    app = create_app(
        settings,
        overrides=Overrides(engines=engines, telephony={"sip": telephony}, memory_jobs=True),
    )
    async with app.router.lifespan_context(app):
        container: Container = app.state.container
        ws = await workspaces.create_workspace(container.uow, name="SIP", credits=100)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test/ca/api/v0",
            headers={"X-API-KEY": ws.api_key},
            timeout=30,
        ) as api:
            yield SipPlatform(app, container, api, telephony, engines, ws.workspace_id)
