"""The call-creation hot path: cached lookups stay correct after edits and revocations, and
group commit gives each request its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from callwright.bootstrap import Container
from callwright.db.batch_writer import BatchWriter
from callwright.db.models import Call, IdempotencyKey
from callwright.db.unit_of_work import UnitOfWork
from callwright.domain.errors import InsufficientCredits
from callwright.services import workspaces
from tests.api.bodies import public_agent
from tests.calls.conftest import call_body
from tests.conftest import Tenant


async def setup(t: Tenant) -> tuple[str, str]:
    agent = await t.client.post("/public/agent", json=public_agent())
    number = (await t.client.get("/workspace/numbers")).json()["workspace_numbers"][0]
    return agent.json()["data"]["id"], number["id"]


async def place(t: Tenant, agent_id: str, number_id: str, **extra: Any) -> Any:
    return await t.client.post(
        "/calling/outbound/individual",
        json=call_body(agent_id, to="+14155550002", from_number_id=number_id, **extra),
    )


async def stored_call(c: Container, call_id: str) -> Call:
    async with c.uow() as session:
        call = await session.get(Call, call_id)
    assert call is not None
    return call


async def test_an_agent_edit_reaches_the_very_next_call(
    tenant: Tenant, container: Container
) -> None:
    agent_id, number_id = await setup(tenant)
    first = await place(tenant, agent_id, number_id)  # fills the cache
    assert first.status_code == 200
    call = await stored_call(container, first.json()["data"]["call_id"])
    assert call.call_config["max_call_length"] == 240

    r = await tenant.client.patch(
        "/agent/v1",
        json={
            "operation": "edit_call_config",
            "agent_id": agent_id,
            "call_config": {"max_call_length": 300},
        },
    )
    assert r.status_code == 200
    second = await place(tenant, agent_id, number_id)
    call = await stored_call(container, second.json()["data"]["call_id"])
    assert call.call_config["max_call_length"] == 300

    assert (await tenant.client.delete(f"/agent/{agent_id}")).status_code == 200
    r = await place(tenant, agent_id, number_id)
    assert r.status_code == 404 and r.json()["detail"] == "Agent not found"


async def test_a_deallocated_number_is_refused_by_the_very_next_call(tenant: Tenant) -> None:
    agent_id, number_id = await setup(tenant)
    assert (await place(tenant, agent_id, number_id)).status_code == 200
    assert (await tenant.client.delete(f"/workspace/number/{number_id}")).status_code == 200
    r = await place(tenant, agent_id, number_id)
    assert r.status_code == 404, r.text


async def test_a_revoked_key_is_refused_at_once(tenant: Tenant, container: Container) -> None:
    row, key = await workspaces.create_key(container.uow, tenant.workspace_id, "ci")
    headers = {"X-API-KEY": key}
    assert (await tenant.client.get("/workspace", headers=headers)).status_code == 200
    await workspaces.revoke_key(container.uow, row.id)
    assert (await tenant.client.get("/workspace", headers=headers)).status_code == 401
    # The workspace's other key is untouched.
    assert (await tenant.client.get("/workspace")).status_code == 200


async def test_concurrent_calls_each_get_their_own_answer(
    tenant_factory: Any, container: Container
) -> None:
    probe = await tenant_factory()
    agent_id, number_id = await setup(probe)
    assert (await place(probe, agent_id, number_id)).status_code == 200
    per_call = (await probe.client.get("/workspace")).json()["workspace_info"]["locked_credits"]

    # Credits for exactly three calls; twelve arrive at once, so they share transactions.
    tenant = await tenant_factory(credits=per_call * 3.5)
    agent_id, number_id = await setup(tenant)
    answers = await asyncio.gather(*(place(tenant, agent_id, number_id) for _ in range(12)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 3 + [402] * 9
    placed = {r.json()["data"]["call_id"] for r in answers if r.status_code == 200}
    async with container.uow() as session:
        stored = set(
            await session.scalars(select(Call.id).where(Call.workspace_id == tenant.workspace_id))
        )
    assert stored == placed
    info = (await tenant.client.get("/workspace")).json()["workspace_info"]
    assert info["locked_credits"] == pytest.approx(per_call * 3)


class CountingUnitOfWork(UnitOfWork):
    """Counts the write transactions it opens."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.transactions = 0

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        self.transactions += 1
        async with super().begin() as session:
            yield session


def _key(workspace_id: str, key: str) -> IdempotencyKey:
    return IdempotencyKey(
        workspace_id=workspace_id, key=key, request_hash="h", status_code=200, response={}
    )


async def test_batch_one_failing_write_does_not_fail_the_others(
    tenant: Tenant, container: Container
) -> None:
    uow, ws = CountingUnitOfWork(container.engine), tenant.workspace_id
    async with uow.begin() as session:
        session.add(_key(ws, "taken"))
    writer = BatchWriter(uow)

    def adding(key: str) -> Any:
        async def work(session: AsyncSession) -> str:
            session.add(_key(ws, key))
            return key

        return work

    async def refused(session: AsyncSession) -> str:
        raise InsufficientCredits("no")

    results = await asyncio.gather(
        *(writer.submit(adding(f"k{i}")) for i in range(6)),
        writer.submit(refused),
        writer.submit(adding("taken")),  # fails at flush, after the others were added
        return_exceptions=True,
    )
    assert results[:6] == [f"k{i}" for i in range(6)]
    assert isinstance(results[6], InsufficientCredits)
    assert isinstance(results[7], IntegrityError)
    async with uow() as session:
        keys = set(
            await session.scalars(
                select(IdempotencyKey.key).where(IdempotencyKey.workspace_id == ws)
            )
        )
    assert keys == {"taken", *(f"k{i}" for i in range(6))}
    # The setup, one shared attempt that failed, then each of the 8 items alone.
    assert uow.transactions == 1 + 1 + 8


async def test_batch_shares_one_transaction(tenant: Tenant, container: Container) -> None:
    uow, ws = CountingUnitOfWork(container.engine), tenant.workspace_id
    writer = BatchWriter(uow)

    async def add(session: AsyncSession, key: str) -> None:
        session.add(_key(ws, key))

    await asyncio.gather(*(writer.submit(partial(add, key=f"b{i}")) for i in range(10)))
    assert uow.transactions == 1
    async with uow() as session:
        n = await session.scalar(select(func.count()).where(IdempotencyKey.workspace_id == ws))
    assert n == 10
