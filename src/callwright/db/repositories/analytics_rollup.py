"""Adding final calls to the analytics roll-up (``call_rollups``), each exactly once.

One transaction picks a batch of final calls not rolled up yet, adds their sums to every view
with one ``INSERT … SELECT … ON CONFLICT DO UPDATE`` (the same statement on SQLite and
PostgreSQL), and sets their ``rolled_up``. A read therefore sees each final call either in the
roll-up or among the calls not rolled up, never both and never neither.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CTE, ColumnElement, Select, false, func, literal, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Call
from callwright.db.models_analytics import ALL, KEY, CallRollup
from callwright.db.repositories.analytics_views import (
    CALL_COLUMNS,
    VIEWS,
    Cols,
    View,
    bucket_of,
    final,
    group_keys,
)

# pg_try_advisory_xact_lock key: one roll-up at a time across every process on the database.
ADVISORY_LOCK_KEY = 0x63_77_72_6F_6C_6C_75_70  # "cwrollup"

_SUMS = ("calls", "duration_s", "cost")


def _scopes(view: View, c: Cols) -> list[tuple[ColumnElement[str], ColumnElement[str] | None]]:
    """(agent_id, bulk_list_id) of the rows one call adds to (see ``View``); None for the
    campaign: every call."""
    if view.agent_is_key:
        return [(c.agent_id, None)] + ([(c.agent_id, c.bulk_list_id)] if view.by_campaign else [])
    every: ColumnElement[str] = literal(ALL)
    scopes = [(every, None), (c.agent_id, None)]
    return scopes + ([(every, c.bulk_list_id)] if view.by_campaign else [])


def _sums_of(view: View, c: Cols, dialect: str) -> list[Select[Any]]:
    parts = []
    for agent, campaign in _scopes(view, c):
        keys = [
            c.workspace_id,
            literal(view.name),
            literal(ALL) if campaign is None else campaign,
            bucket_of(c.created_at, view.grain_s, dialect),
            agent,
            view.status(c),
            c.voicemail_detected,
            view.detail(c),
        ]
        query = select(
            *[k.label(name) for k, name in zip(keys, KEY, strict=True)],
            func.count().label("calls"),
            func.coalesce(func.sum(c.call_duration), 0.0).label("duration_s"),
            func.coalesce(func.sum(c.call_cost), 0.0).label("cost"),
        ).group_by(*group_keys(*keys))
        if view.where is not None:
            query = query.where(view.where(c))
        if campaign is not None:
            query = query.where(campaign.is_not(None))  # calls outside campaigns: none to add
        parts.append(query)
    return parts


async def roll_up(session: AsyncSession, *, limit: int) -> int:
    """In the caller's write transaction: add up to ``limit`` final calls not rolled up yet to
    every view and mark them rolled up; returns how many.

    PostgreSQL: one roll-up runs at a time across processes (a transaction advisory lock; a
    process that finds it taken adds nothing this round, so upserts never deadlock), and the
    batch is locked (``FOR UPDATE SKIP LOCKED``: a row another transaction holds waits for the
    next round) so nothing changes it between summing and marking. SQLite: the caller's write
    transaction is the only writer (``UnitOfWork.begin``).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        locked = await session.scalar(select(func.pg_try_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        if not locked:
            return 0
    calls = Call.__table__
    ids = (
        await session.scalars(
            select(calls.c.id)
            .where(calls.c.rolled_up == false(), final(calls.c))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not ids:
        return 0
    # Read once, summed by every view: MATERIALIZED keeps both databases from re-reading the
    # call rows per view.
    batch: CTE = (
        select(*[calls.c[name] for name in (*CALL_COLUMNS, "platform_analysis")])
        .where(calls.c.id.in_(ids))
        .cte("batch")
        .prefix_with("MATERIALIZED")
    )
    sums = union_all(*[part for view in VIEWS for part in _sums_of(view, batch.c, dialect)])
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(CallRollup).from_select([*KEY, *_SUMS], sums)
    rollups = CallRollup.__table__.c
    statement = statement.on_conflict_do_update(
        index_elements=[rollups[name] for name in KEY],
        set_={name: rollups[name] + statement.excluded[name] for name in _SUMS},
    )
    await session.execute(statement)
    await session.execute(
        update(Call).where(Call.id.in_(ids)).values(rolled_up=True),
        execution_options={"synchronize_session": False},
    )
    return len(ids)
