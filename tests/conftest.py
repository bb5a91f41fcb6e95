"""Shared fixtures: databases (SQLite and PostgreSQL), the API app, and workspaces."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from callwright.api.app import create_app
from callwright.bootstrap import Container
from callwright.services import workspaces
from callwright.settings import Settings

# The tests' apps share one database: a sweep for lost jobs would adopt other tests' leftover
# calls and dial them on its own sim network. Its own test calls it directly; server processes
# started by tests (tests/e2e/campaign_server.py) turn it back on.
os.environ["CALLWRIGHT_STALE_DISPATCH_S"] = "0"
PG_ADMIN_URL = os.environ.get("CALLWRIGHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


async def _pg(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _fresh_pg_database() -> Iterator[str]:
    import asyncio

    name = f"cw_test_{secrets.token_hex(6)}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A PostgreSQL database shared by this test session (tests are isolated by workspace)."""
    yield from _fresh_pg_database()


@pytest.fixture
def empty_pg_database_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, for tests of what happens on first start."""
    yield from _fresh_pg_database()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Each API test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        # One file per session: tests are isolated by workspace, as tenants are.
        db = tmp_path_factory.getbasetemp() / "api.db"
        return f"sqlite:///{db}"
    url: str = request.getfixturevalue("pg_database_url")
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        rate_limit_per_s=0,  # limits have their own test
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@dataclass
class Tenant:
    """A workspace and an HTTP client that speaks for it."""

    workspace_id: str
    api_key: str
    client: httpx.AsyncClient


@pytest.fixture
def container(app: FastAPI) -> Container:
    c: Container = app.state.container
    return c


@pytest.fixture
async def tenant_factory(app: FastAPI, container: Container) -> AsyncIterator[object]:
    clients: list[httpx.AsyncClient] = []

    async def make(name: str = "Test Workspace", credits: float = 100.0) -> Tenant:
        ws = await workspaces.create_workspace(
            container.uow,
            name=name,
            credits=credits,
            sim_number=f"+1555{secrets.randbelow(10**7):07d}",
        )
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://test/ca/api/v0",
            headers={"X-API-KEY": ws.api_key},
        )
        clients.append(client)
        return Tenant(ws.workspace_id, ws.api_key, client)

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def tenant(tenant_factory: object) -> Tenant:
    return await tenant_factory()  # type: ignore[operator, no-any-return]


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test/ca/api/v0"
    ) as client:
        yield client
