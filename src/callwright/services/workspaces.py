"""Workspaces and API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import ApiKey, PhoneNumber, TelephonyAccount, User, Workspace
from callwright.db.repositories import workspaces as repo
from callwright.db.unit_of_work import SessionFactory
from callwright.domain import api_keys
from callwright.domain.errors import NotFound, Unauthorized
from callwright.domain.ids import new_id
from callwright.services.lookup_cache import lookups


@dataclass(frozen=True, slots=True)
class NewWorkspace:
    workspace_id: str
    api_key: str  # the plain key: shown once, never stored


async def create_workspace(
    uow: SessionFactory,
    *,
    name: str,
    api_key: str | None = None,
    credits: float = 0.0,
    sim_number: str | None = None,
) -> NewWorkspace:
    """A workspace with an owner, one API key and, when given, a number on the sim network."""
    key = api_key or api_keys.generate()
    async with uow.begin() as session:
        workspace = Workspace(id=new_id(), name=name, credits=credits, locked_credits=0.0)
        session.add(workspace)
        await session.flush()
        session.add(
            User(id=new_id(), workspace_id=workspace.id, username="owner", email="owner@localhost")
        )
        session.add(_key_row(workspace.id, key, "default"))
        if sim_number:
            await _add_sim_number(session, workspace.id, sim_number)
    return NewWorkspace(workspace.id, key)


async def _add_sim_number(session: AsyncSession, workspace_id: str, number: str) -> None:
    account = TelephonyAccount(
        id=new_id(), workspace_id=workspace_id, provider="sim", name="Simulated network"
    )
    session.add(account)
    await session.flush()  # no ORM relationship orders the inserts, so do it here
    session.add(
        PhoneNumber(
            id=new_id(),
            workspace_id=workspace_id,
            telephony_account_id=account.id,
            number=number,
            display_name="Simulated line",
            tags=["Default Number"],
            is_test_number=False,
        )
    )


def _key_row(workspace_id: str, key: str, name: str) -> ApiKey:
    return ApiKey(
        id=new_id(),
        workspace_id=workspace_id,
        key_hash=api_keys.digest(key),
        hint=api_keys.hint(key),
        name=name,
    )


async def ensure_default(
    uow: SessionFactory, *, init_api_key: str | None, credits: float, sim_number: str
) -> NewWorkspace | None:
    """On first start, create the default workspace. Returns it only when it was created now."""
    async with uow() as session:
        if await repo.count(session):
            return None
    return await create_workspace(
        uow, name="Default Workspace", api_key=init_api_key, credits=credits, sim_number=sim_number
    )


async def authenticate(uow: SessionFactory, key: str | None) -> str:
    """The workspace id a presented API key belongs to. Answers come from a short-lived
    cache (see :mod:`callwright.services.lookup_cache`): a key revoked in this process stops
    working at once, one revoked elsewhere (the CLI) within ``lookup_cache.TTL_S``."""
    if not key:
        raise Unauthorized("Invalid credentials")
    digest = api_keys.digest(key)
    async with uow() as session:
        known = lookups(session).workspace_by_key
        workspace_id = known.get(digest)
        if workspace_id is None:
            workspace_id = await repo.workspace_for_key(session, digest)
            if workspace_id is not None:
                known.put(digest, workspace_id)
    if workspace_id is None:
        raise Unauthorized("Invalid credentials")
    return workspace_id


async def get(uow: SessionFactory, workspace_id: str) -> Workspace:
    async with uow() as session:
        workspace = await repo.get(session, workspace_id)
    if workspace is None:
        raise NotFound("Workspace not found")
    return workspace


async def users(uow: SessionFactory, workspace_id: str, *, limit: int, offset: int) -> list[User]:
    async with uow() as session:
        return list(await repo.users(session, workspace_id, limit=limit, offset=offset))


async def add_credits(uow: SessionFactory, workspace_id: str, amount: float) -> Workspace:
    async with uow.begin() as session:
        workspace = await repo.get(session, workspace_id)
        if workspace is None:
            raise NotFound("Workspace not found")
        workspace.credits += amount
    return workspace


# --------------------------------------------------------------------------- keys (CLI)


async def create_key(
    uow: SessionFactory, workspace_id: str | None, name: str
) -> tuple[ApiKey, str]:
    """A new key for ``workspace_id`` (default: the first workspace). Returns (row, plain key)."""
    key = api_keys.generate()
    async with uow.begin() as session:
        workspace = await (repo.get(session, workspace_id) if workspace_id else repo.first(session))
        if workspace is None:
            raise NotFound("No such workspace; start the server once to create the default one")
        row = _key_row(workspace.id, key, name)
        session.add(row)
    return row, key


async def list_keys(uow: SessionFactory) -> list[ApiKey]:
    async with uow() as session:
        return list(await repo.all_keys(session))


async def revoke_key(uow: SessionFactory, key_id: str) -> ApiKey:
    async with uow.begin() as session:
        row = await repo.key(session, key_id)
        if row is None:
            raise NotFound(f"No API key with id {key_id}")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
    return row
