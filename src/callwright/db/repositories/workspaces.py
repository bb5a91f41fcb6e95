"""Workspaces, their users and their API keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import ApiKey, User, Workspace


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Workspace)) or 0)


async def get(session: AsyncSession, workspace_id: str) -> Workspace | None:
    return await session.get(Workspace, workspace_id)


async def first(session: AsyncSession) -> Workspace | None:
    return await session.scalar(select(Workspace).order_by(Workspace.created_at).limit(1))


async def workspace_for_key(session: AsyncSession, key_hash: str) -> str | None:
    return await session.scalar(
        select(ApiKey.workspace_id).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
    )


async def users(
    session: AsyncSession, workspace_id: str, *, limit: int, offset: int
) -> Sequence[User]:
    rows = await session.scalars(
        select(User)
        .where(User.workspace_id == workspace_id)
        .order_by(User.created_at, User.id)
        .limit(limit)
        .offset(offset)
    )
    return rows.all()


async def keys(session: AsyncSession, workspace_id: str) -> Sequence[ApiKey]:
    rows = await session.scalars(
        select(ApiKey).where(ApiKey.workspace_id == workspace_id).order_by(ApiKey.created_at)
    )
    return rows.all()


async def all_keys(session: AsyncSession) -> Sequence[ApiKey]:
    rows = await session.scalars(select(ApiKey).order_by(ApiKey.created_at))
    return rows.all()


async def key(session: AsyncSession, key_id: str) -> ApiKey | None:
    return await session.get(ApiKey, key_id)
