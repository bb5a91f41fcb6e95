"""Aggregates over a workspace's calls for the analytics endpoints.

Every function is one SQL statement that groups in the database (GROUP BY, CASE) and returns a
handful of rows, never one row per call. The filters line up with the covering indexes of
migration 0006 (workspace, created_at, then the grouped columns), so PostgreSQL answers from an
index-only scan and SQLite from a covering index, without reading the wide call rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Date, case, cast, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from callwright.db.models import Agent, Call, PhoneNumber

# Upper edges (seconds, exclusive) of the duration buckets; the last bucket is open-ended.
DURATION_EDGES_S = (10, 30, 60, 120, 300, 600)


@dataclass(frozen=True, slots=True)
class AnalyticsFilter:
    """Calls created in ``[start, end)`` of one workspace, narrowed by the optional filters.

    ``utc_offset_min`` is the fixed offset whose calendar days ``per_day`` groups by.
    """

    start: datetime
    end: datetime
    utc_offset_min: int = 0
    agent_id: str | None = None
    bulk_list_id: str | None = None
    voicemail: bool | None = None


@dataclass(frozen=True, slots=True)
class Tally:
    """Calls of one group: how many, summed duration (s) and cost (credits)."""

    calls: int
    duration_s: float
    cost: float


@dataclass(frozen=True, slots=True)
class StatusTally:
    """A tally per (status, voicemail) pair; callers fold these into totals."""

    status: str
    voicemail: bool
    tally: Tally


@dataclass(frozen=True, slots=True)
class BreakdownRow:
    """A tally per (day, agent, status, voicemail); ``day`` is ``YYYY-MM-DD`` at the offset."""

    day: str
    agent_id: str
    status: str
    voicemail: bool
    tally: Tally


@dataclass(frozen=True, slots=True)
class NumberRow:
    from_number: str | None
    status: str
    voicemail: bool
    tally: Tally


def _where(workspace_id: str, f: AnalyticsFilter) -> list[ColumnElement[bool]]:
    conditions = [
        Call.workspace_id == workspace_id,
        Call.created_at >= f.start,
        Call.created_at < f.end,
    ]
    if f.agent_id is not None:
        conditions.append(Call.agent_id == f.agent_id)
    if f.bulk_list_id is not None:
        conditions.append(Call.bulk_list_id == f.bulk_list_id)
    if f.voicemail is not None:
        conditions.append(Call.voicemail_detected.is_(f.voicemail))
    return conditions


def _sums() -> tuple[ColumnElement[int], ColumnElement[float], ColumnElement[float]]:
    return (
        func.count().label("n"),
        func.coalesce(func.sum(Call.call_duration), 0.0).label("duration"),
        func.coalesce(func.sum(Call.call_cost), 0.0).label("cost"),
    )


def _tally(n: Any, duration: Any, cost: Any) -> Tally:
    return Tally(int(n or 0), float(duration or 0.0), float(cost or 0.0))


def _day(dialect: str, offset_min: int) -> ColumnElement[str]:
    """The calendar day of ``created_at`` at a fixed UTC offset, as ``YYYY-MM-DD`` text.

    The offset is an int checked by the caller and inlined, so SELECT and GROUP BY carry the same
    expression (bound parameters would differ between the two on PostgreSQL).
    """
    minutes = int(offset_min)
    if dialect == "sqlite":
        # created_at is stored as naive UTC text; SQLite's date() shifts it by a modifier.
        return func.date(Call.created_at, literal_column(f"'{minutes:+d} minutes'"))
    shifted = func.timezone("UTC", Call.created_at) + literal_column(
        f"interval '{minutes} minutes'"
    )
    return func.to_char(cast(shifted, Date), "YYYY-MM-DD")


async def breakdown(
    session: AsyncSession, workspace_id: str, f: AnalyticsFilter
) -> list[BreakdownRow]:
    """One pass for the platform dashboard: per day × agent × status × voicemail."""
    day = _day(session.get_bind().dialect.name, f.utc_offset_min).label("day")
    query = (
        select(day, Call.agent_id, Call.status, Call.voicemail_detected, *_sums())
        .where(*_where(workspace_id, f))
        .group_by(day, Call.agent_id, Call.status, Call.voicemail_detected)
    )
    rows = (await session.execute(query)).all()
    return [
        BreakdownRow(str(d), a, s, bool(vm), _tally(n, du, c)) for d, a, s, vm, n, du, c in rows
    ]


async def sub_status_counts(
    session: AsyncSession, workspace_id: str, f: AnalyticsFilter
) -> dict[tuple[str, str], int]:
    """Calls per (status, sub_status): failure causes and end reasons of a campaign."""
    query = (
        select(Call.status, Call.sub_status, func.count())
        .where(*_where(workspace_id, f))
        .group_by(Call.status, Call.sub_status)
    )
    return {(s, sub): int(n) for s, sub, n in (await session.execute(query)).all()}


async def per_number(
    session: AsyncSession, workspace_id: str, f: AnalyticsFilter
) -> list[NumberRow]:
    query = (
        select(Call.from_number, Call.status, Call.voicemail_detected, *_sums())
        .where(*_where(workspace_id, f))
        .group_by(Call.from_number, Call.status, Call.voicemail_detected)
    )
    rows = (await session.execute(query)).all()
    return [NumberRow(num, s, bool(vm), _tally(n, d, c)) for num, s, vm, n, d, c in rows]


def duration_bucket() -> ColumnElement[int]:
    """0 for [0, 10) s, 1 for [10, 30) s, ... len(DURATION_EDGES_S) for the open top bucket."""
    return case(
        *[(Call.call_duration < edge, i) for i, edge in enumerate(DURATION_EDGES_S)],
        else_=len(DURATION_EDGES_S),
    )


async def duration_histogram(
    session: AsyncSession, workspace_id: str, f: AnalyticsFilter
) -> tuple[list[int], Tally]:
    """Completed calls per duration bucket (see ``DURATION_EDGES_S``), and their tally."""
    bucket = duration_bucket().label("bucket")
    query = (
        select(bucket, *_sums())
        .where(*_where(workspace_id, f), Call.status == "completed")
        .group_by(bucket)
    )
    counts = [0] * (len(DURATION_EDGES_S) + 1)
    calls, duration, cost = 0, 0.0, 0.0
    for b, n, d, c in (await session.execute(query)).all():
        counts[int(b)] = int(n)
        calls, duration, cost = calls + int(n), duration + float(d or 0), cost + float(c or 0)
    return counts, Tally(calls, duration, cost)


async def classification_counts(
    session: AsyncSession, workspace_id: str, f: AnalyticsFilter
) -> dict[tuple[str, str | None], int]:
    """Calls per (platform_analysis_status, classification label) for analysed or pending calls.

    The label is read from the ``platform_analysis`` JSON (``classification``), which only calls
    whose analysis finished carry.
    """
    label = Call.platform_analysis["classification"].as_string().label("label")
    query = (
        select(Call.platform_analysis_status, label, func.count())
        .where(
            *_where(workspace_id, f),
            Call.platform_analysis_status.in_(("success", "pending", "failed")),
        )
        .group_by(Call.platform_analysis_status, label)
    )
    rows = (await session.execute(query)).all()
    return {(s, None if lbl is None else str(lbl)): int(n) for s, lbl, n in rows}


async def agent_labels(
    session: AsyncSession, workspace_id: str, agent_ids: Sequence[str]
) -> dict[str, tuple[str, dict[str, str]]]:
    """Names and classification labels of the workspace's agents, archived ones included."""
    if not agent_ids:
        return {}
    query = select(Agent.id, Agent.display_name, Agent.classification_labels).where(
        Agent.workspace_id == workspace_id, Agent.id.in_(agent_ids)
    )
    return {a: (name, labels or {}) for a, name, labels in (await session.execute(query)).all()}


async def workspace_numbers(session: AsyncSession, workspace_id: str) -> dict[str, str]:
    """The workspace's live numbers: E.164 number → number id."""
    query = select(PhoneNumber.number, PhoneNumber.id).where(
        PhoneNumber.workspace_id == workspace_id, PhoneNumber.deleted_at.is_(None)
    )
    return {num: nid for num, nid in (await session.execute(query)).all()}
