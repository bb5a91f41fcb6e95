"""Agents and their versions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Agent, AgentVersion


async def get(session: AsyncSession, workspace_id: str, agent_id: str) -> Agent | None:
    """A live (not archived) agent of the workspace."""
    return await session.scalar(
        select(Agent).where(
            Agent.id == agent_id, Agent.workspace_id == workspace_id, Agent.is_archived.is_(False)
        )
    )


async def page(
    session: AsyncSession, workspace_id: str, *, limit: int, offset: int
) -> Sequence[Agent]:
    rows = await session.scalars(
        select(Agent)
        .where(Agent.workspace_id == workspace_id, Agent.is_archived.is_(False))
        .order_by(Agent.created_at.desc(), Agent.id)
        .limit(limit)
        .offset(offset)
    )
    return rows.all()


async def versions(
    session: AsyncSession, workspace_id: str, agent_id: str
) -> Sequence[AgentVersion]:
    rows = await session.scalars(
        select(AgentVersion)
        .where(AgentVersion.agent_id == agent_id, AgentVersion.workspace_id == workspace_id)
        .order_by(AgentVersion.created_at, AgentVersion.slug)
    )
    return rows.all()


async def versions_of(
    session: AsyncSession, workspace_id: str, agent_ids: Sequence[str]
) -> Sequence[AgentVersion]:
    if not agent_ids:
        return []
    rows = await session.scalars(
        select(AgentVersion).where(
            AgentVersion.workspace_id == workspace_id, AgentVersion.agent_id.in_(agent_ids)
        )
    )
    return rows.all()


async def version(
    session: AsyncSession, workspace_id: str, agent_id: str, version_id: str
) -> AgentVersion | None:
    return await session.scalar(
        select(AgentVersion).where(
            AgentVersion.id == version_id,
            AgentVersion.agent_id == agent_id,
            AgentVersion.workspace_id == workspace_id,
        )
    )


async def with_version(
    session: AsyncSession, workspace_id: str, agent_id: str, version_id: str | None
) -> tuple[Agent, AgentVersion | None] | None:
    """A live agent and one of its versions (default: the active one), in one query."""
    wanted = AgentVersion.id == (version_id if version_id else Agent.active_version_id)
    row = (
        await session.execute(
            select(Agent, AgentVersion)
            .outerjoin(AgentVersion, (AgentVersion.agent_id == Agent.id) & wanted)
            .where(
                Agent.id == agent_id,
                Agent.workspace_id == workspace_id,
                Agent.is_archived.is_(False),
            )
        )
    ).first()
    return None if row is None else (row[0], row[1])
