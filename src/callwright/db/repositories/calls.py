"""Calls, the dial ledger and idempotency records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Agent, AgentVersion, Call, IdempotencyKey, Workspace

# Counting a million rows for a page header costs more than the page: past this, say "many",
# as Ringg's live API does.
TOTAL_CAP = 1_000


@dataclass(frozen=True, slots=True)
class CallFilter:
    start: datetime | None = None
    end: datetime | None = None
    agent_ids: tuple[str, ...] = ()
    status: str | None = None
    bulk_list_id: str | None = None
    direction: str | None = None
    voicemail: bool | None = None
    from_number: str | None = None
    to_number: str | None = None
    call_id: str | None = None


def _filtered(workspace_id: str, f: CallFilter) -> Select[Call]:
    query = select(Call).where(Call.workspace_id == workspace_id)
    if f.start is not None:
        query = query.where(Call.created_at >= f.start)
    if f.end is not None:
        query = query.where(Call.created_at <= f.end)
    if f.agent_ids:
        query = query.where(Call.agent_id.in_(f.agent_ids))
    if f.status is not None:
        query = query.where(Call.status == f.status)
    if f.bulk_list_id is not None:
        query = query.where(Call.bulk_list_id == f.bulk_list_id)
    if f.direction is not None:
        query = query.where(Call.direction == f.direction)
    if f.voicemail is not None:
        query = query.where(Call.voicemail_detected.is_(f.voicemail))
    if f.from_number is not None:
        query = query.where(Call.from_number == f.from_number)
    if f.to_number is not None:
        query = query.where(Call.to_number == f.to_number)
    if f.call_id is not None:
        query = query.where(Call.id == f.call_id)
    return query


@dataclass(frozen=True, slots=True)
class CallRow:
    """A call with the names a list shows, read in one query."""

    call: Call
    agent_name: str
    orchestration_mode: str
    version_slug: str


async def page(
    session: AsyncSession, workspace_id: str, f: CallFilter, *, limit: int, offset: int
) -> list[CallRow]:
    query = (
        _filtered(workspace_id, f)
        .add_columns(Agent.display_name, Agent.orchestration_mode, AgentVersion.slug)
        .outerjoin(Agent, Agent.id == Call.agent_id)
        .outerjoin(AgentVersion, AgentVersion.id == Call.agent_version_id)
        .order_by(Call.created_at.desc(), Call.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(query)).all()
    return [
        CallRow(c, name or "", mode or "single_node", slug or "") for c, name, mode, slug in rows
    ]


async def capped_total(
    session: AsyncSession, workspace_id: str, f: CallFilter
) -> int | Literal["many"]:
    sub = _filtered(workspace_id, f).with_only_columns(Call.id).limit(TOTAL_CAP + 1).subquery()
    n = int(await session.scalar(select(func.count()).select_from(sub)) or 0)
    return "many" if n > TOTAL_CAP else n


async def get(session: AsyncSession, workspace_id: str, call_id: str) -> Call | None:
    return await session.scalar(
        select(Call).where(Call.id == call_id, Call.workspace_id == workspace_id)
    )


async def lock_credits(session: AsyncSession, workspace_id: str, amount: float) -> bool:
    """Reserve ``amount`` if the free balance covers it; one conditional UPDATE, race-free."""
    result = await session.execute(
        update(Workspace)
        .where(
            Workspace.id == workspace_id,
            Workspace.credits - Workspace.locked_credits >= amount,
        )
        .values(locked_credits=Workspace.locked_credits + amount)
        # No loaded Workspace to keep in step: skip the ORM's identity-map pass.
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


_HELD_WORKSPACES = "calls.held_workspaces"


async def reserve_credits(session: AsyncSession, workspace_id: str, amount: float) -> bool:
    """:func:`lock_credits` for a transaction that reserves many times (a group commit of
    placed calls): the workspace row is read once, locked (``FOR UPDATE``; on SQLite this
    process's writers take turns), and kept in the session, so each further call reserves
    in memory and the ORM writes one UPDATE at commit instead of one per call. Use only in
    transactions that change credits through this function alone."""
    held: dict[str, Workspace] = session.info.setdefault(_HELD_WORKSPACES, {})
    workspace = held.get(workspace_id)
    if workspace is None:
        workspace = await session.get(Workspace, workspace_id, with_for_update=True)
        if workspace is None:
            return False
        held[workspace_id] = workspace
    if workspace.credits - workspace.locked_credits < amount:
        return False
    workspace.locked_credits += amount
    return True


async def settle_credits(
    session: AsyncSession, workspace_id: str, *, locked: float, cost: float
) -> None:
    await session.execute(
        update(Workspace)
        .where(Workspace.id == workspace_id)
        .values(
            # max() of two values is SQLite's greatest()
            locked_credits=func.max(Workspace.locked_credits - locked, 0.0)
            if session.get_bind().dialect.name == "sqlite"
            else func.greatest(Workspace.locked_credits - locked, 0.0),
            credits=Workspace.credits - cost,
        )
    )


async def idempotent_response(
    session: AsyncSession, workspace_id: str, key: str
) -> IdempotencyKey | None:
    return await session.get(IdempotencyKey, (workspace_id, key))
