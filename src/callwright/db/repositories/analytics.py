"""Aggregates over a workspace's calls for the analytics endpoints.

Every figure is one SQL statement that groups in the database and returns a handful of rows,
never one row per call. One statement is one snapshot, which the sum below relies on.

The sum: for the whole buckets inside the window, the roll-up's rows (final calls, summed ahead
by ``analytics_rollup.py`` in the views of ``analytics_views.py``) plus the calls there not rolled
up yet (``calls.rolled_up`` false: unfinished, or finished since the last roll-up); for the
partial buckets at either end, every call there. Each part is grouped alike, then the parts are
added (UNION ALL, GROUP BY). A call is in exactly one part, so the figures equal those of
reading every call, which is what happens when no view serves the request: agent and campaign
at once (but for the status totals), a campaign's days at an offset other than UTC's, days at
an offset that is not a whole number of quarter hours.

The calls parts line up with indexes: the covering indexes of migration 0006 for the ends, the
partial index of the calls not rolled up (migration 0008) for the middle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CTE, FromClause, Select, false, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from callwright.db.models import Agent, Call, PhoneNumber
from callwright.db.models_analytics import ALL, CallRollup
from callwright.db.repositories.analytics_views import (
    CALL_COLUMNS,
    DURATION,
    DURATION_EDGES_S,
    LABEL,
    NUMBER,
    SERIES,
    STATUS,
    Cols,
    View,
    day_number,
    epoch_s,
    group_keys,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_ZERO = _EPOCH.date()  # day number 0 (see analytics_views.day_number)


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
    """A tally per (agent, status, voicemail) over the whole window."""

    agent_id: str
    status: str
    voicemail: bool
    tally: Tally


@dataclass(frozen=True, slots=True)
class SubStatusRow:
    """A tally per (status, sub_status, voicemail) over the whole window."""

    status: str
    sub_status: str
    voicemail: bool
    tally: Tally


@dataclass(frozen=True, slots=True)
class DayRow:
    """A tally per (day, status, voicemail); ``day`` is ``YYYY-MM-DD`` at the offset, and
    ``status`` is ``completed`` or '' (any other: the series only needs connected calls)."""

    day: str
    status: str
    voicemail: bool
    tally: Tally


@dataclass(frozen=True, slots=True)
class NumberRow:
    from_number: str | None
    status: str
    voicemail: bool
    tally: Tally


# ---------------------------------------------------------------- one figure, from its parts


def _call_key(view: View, c: Cols, key: str) -> ColumnElement[Any]:
    if key == "agent_id":
        return c.agent_id
    if key == "voicemail":
        return c.voicemail_detected
    return view.status(c) if key == "status" else view.detail(c)


def _grouped(
    keys: Sequence[tuple[str, ColumnElement[Any]]], *sums: ColumnElement[Any]
) -> Select[Any]:
    """SELECT keys and sums, every column named as all the parts name it."""
    named = [k.label(name) for name, k in keys]
    return select(*named, *[s.label(n) for s, n in zip(sums, ("n", "d", "c"), strict=True)])


def _from_calls(
    view: View,
    workspace_id: str,
    f: AnalyticsFilter,
    keys: Sequence[str],
    per_day: bool,
    dialect: str,
    lo: datetime,
    hi: datetime,
    *,
    only_unrolled: bool = False,
) -> Select[Any]:
    calls: FromClause = Call.__table__
    if only_unrolled:
        calls = _unrolled(view, workspace_id, lo, hi)
    c = calls.c
    exprs = [(k, _call_key(view, c, k)) for k in keys]
    if per_day:
        exprs.insert(0, ("day", day_number(epoch_s(c.created_at, dialect), f.utc_offset_min)))
    conditions = [c.workspace_id == workspace_id, c.created_at >= lo, c.created_at < hi]
    if f.agent_id is not None:
        conditions.append(c.agent_id == f.agent_id)
    if f.bulk_list_id is not None:
        conditions.append(c.bulk_list_id == f.bulk_list_id)
    if f.voicemail is not None:
        conditions.append(c.voicemail_detected.is_(f.voicemail))
    if view.where is not None:
        conditions.append(view.where(c))
    sums = (
        func.count(),
        func.coalesce(func.sum(c.call_duration), 0.0),
        func.coalesce(func.sum(c.call_cost), 0.0),
    )
    return (
        _grouped(exprs, *sums)
        .select_from(calls)
        .where(*conditions)
        .group_by(*group_keys(*[e for _, e in exprs]))
    )


def _unrolled(view: View, workspace_id: str, lo: datetime, hi: datetime) -> CTE:
    """The calls of ``[lo, hi)`` not rolled up, read on their own (MATERIALIZED) through the
    partial index of such calls, which covers them: filtered in one query with the figure's
    filters, SQLite would rather range over a narrower index (agent, status or campaign, then
    created_at) and look up ``rolled_up`` in every call row of the window."""
    c = Call.__table__.c
    names = (*CALL_COLUMNS, "platform_analysis") if view.reads_analysis else CALL_COLUMNS
    return (
        select(*[c[name] for name in names])
        .where(
            c.workspace_id == workspace_id,
            c.created_at >= lo,
            c.created_at < hi,
            c.rolled_up == false(),  # as the partial index says it
        )
        .cte("unrolled")
        .prefix_with("MATERIALIZED")
    )


def _from_rollup(
    view: View,
    workspace_id: str,
    f: AnalyticsFilter,
    keys: Sequence[str],
    per_day: bool,
    dialect: str,
    lo: int,
    hi: int,
) -> Select[Any]:
    r = CallRollup.__table__.c
    exprs: list[tuple[str, ColumnElement[Any]]] = [(k, r[k]) for k in keys]
    if per_day:
        exprs.insert(0, ("day", day_number(r.bucket_epoch_s, f.utc_offset_min)))
    conditions = [
        r.workspace_id == workspace_id,
        r.view == view.name,
        r.bulk_list_id == (f.bulk_list_id if f.bulk_list_id is not None else ALL),
        r.bucket_epoch_s >= lo,
        r.bucket_epoch_s < hi,
    ]
    if f.agent_id is not None:
        conditions.append(r.agent_id == f.agent_id)
    elif not view.agent_is_key:
        conditions.append(r.agent_id == ALL)
    if f.voicemail is not None:
        conditions.append(r.voicemail.is_(f.voicemail))
    sums = (func.sum(r.calls), func.sum(r.duration_s), func.sum(r.cost))
    return _grouped(exprs, *sums).where(*conditions).group_by(*[e for _, e in exprs])


def _pick(views: Sequence[View], f: AnalyticsFilter, per_day: bool) -> View | None:
    """The first view with rows for these filters (and, per day, buckets that never span a
    local midnight); None: read every call."""
    if ALL in (f.agent_id, f.bulk_list_id):
        return None  # '' names no agent or campaign, but is the roll-up's "every"
    for view in views:
        aligned = not per_day or (f.utc_offset_min * 60) % view.grain_s == 0
        filters = {"agent": f.agent_id is not None, "campaign": f.bulk_list_id is not None}
        if aligned and view.serves(**filters):
            return view
    return None


def _floor(t: datetime, grain_s: int) -> datetime:
    grain = timedelta(seconds=grain_s)
    return _EPOCH + (t - _EPOCH) // grain * grain


def _ceil(t: datetime, grain_s: int) -> datetime:
    floor = _floor(t, grain_s)
    return floor if floor == t else floor + timedelta(seconds=grain_s)


def _epoch_s(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(seconds=1)


async def _figure(
    session: AsyncSession,
    workspace_id: str,
    f: AnalyticsFilter,
    views: Sequence[View],
    keys: Sequence[str],
    *,
    per_day: bool = False,
    rollup: bool = True,
) -> list[tuple[tuple[Any, ...], Tally]]:
    """Tallies per key (``day`` first when ``per_day``), summed over the window's parts.

    ``views``: the views that hold this figure, preferred first; the first one's expressions
    group the calls when none serves. ``rollup=False`` reads every call (tests compare).
    """
    dialect = session.get_bind().dialect.name
    view = _pick(views, f, per_day) if rollup else None
    shape = (view or views[0], workspace_id, f, keys, per_day, dialect)
    lo = hi = f.end
    # A window shorter than a bucket holds no whole one (and ceil(start) cannot pass the end
    # of time: it is at most end).
    if view is not None and f.end - f.start >= timedelta(seconds=view.grain_s):
        lo, hi = _ceil(f.start, view.grain_s), _floor(f.end, view.grain_s)
    if lo < hi:
        parts = [
            _from_rollup(*shape, _epoch_s(lo), _epoch_s(hi)),
            _from_calls(*shape, lo, hi, only_unrolled=True),
            *([_from_calls(*shape, f.start, lo)] if f.start < lo else []),
            *([_from_calls(*shape, hi, f.end)] if hi < f.end else []),
        ]
        legs = union_all(*parts).subquery()
    else:  # no whole bucket inside, or no view: every call from ``calls``
        legs = _from_calls(*shape, f.start, f.end).subquery()
    names = [legs.c[n] for n in (["day"] if per_day else []) + list(keys)]
    query = select(*names, func.sum(legs.c.n), func.sum(legs.c.d), func.sum(legs.c.c))
    rows = (await session.execute(query.group_by(*names))).all()
    width = len(names)
    return [(tuple(row[:width]), _tally(*row[width:])) for row in rows]


def _tally(n: Any, duration: Any, cost: Any) -> Tally:
    return Tally(int(n or 0), float(duration or 0.0), float(cost or 0.0))


# ---------------------------------------------------------------- the figures


async def breakdown(
    session: AsyncSession, workspace_id: str, f: AnalyticsFilter, *, rollup: bool = True
) -> list[BreakdownRow]:
    """Totals per agent × status × voicemail over the window."""
    rows = await _figure(
        session, workspace_id, f, (STATUS,), ("agent_id", "status", "voicemail"), rollup=rollup
    )
    return [BreakdownRow(str(a), str(s), bool(vm), t) for (a, s, vm), t in rows]


async def per_day(
    session: AsyncSession, workspace_id: str, f: AnalyticsFilter, *, rollup: bool = True
) -> list[DayRow]:
    """Per day at the filter's offset: completed calls and the rest, per voicemail."""
    rows = await _figure(
        session,
        workspace_id,
        f,
        SERIES,
        ("status", "voicemail"),
        per_day=True,
        rollup=rollup,
    )
    return [
        DayRow((_DAY_ZERO + timedelta(days=int(d))).isoformat(), str(s), bool(vm), t)
        for (d, s, vm), t in rows
    ]


async def by_sub_status(
    session: AsyncSession, workspace_id: str, f: AnalyticsFilter, *, rollup: bool = True
) -> list[SubStatusRow]:
    """Totals per status × sub_status × voicemail: a campaign's figures, with the carrier's
    failure causes and the end reasons."""
    keys = ("status", "detail", "voicemail")
    rows = await _figure(session, workspace_id, f, (STATUS,), keys, rollup=rollup)
    return [SubStatusRow(str(s), str(sub), bool(vm), t) for (s, sub, vm), t in rows]


async def per_number(
    session: AsyncSession, workspace_id: str, f: AnalyticsFilter, *, rollup: bool = True
) -> list[NumberRow]:
    rows = await _figure(
        session, workspace_id, f, (NUMBER,), ("detail", "status", "voicemail"), rollup=rollup
    )
    return [NumberRow(str(n) or None, str(s), bool(vm), t) for (n, s, vm), t in rows]


async def duration_histogram(
    session: AsyncSession, workspace_id: str, f: AnalyticsFilter, *, rollup: bool = True
) -> tuple[list[int], Tally]:
    """Completed calls per duration bucket (see ``DURATION_EDGES_S``), and their tally."""
    counts = [0] * (len(DURATION_EDGES_S) + 1)
    calls, duration, cost = 0, 0.0, 0.0
    for (bucket,), t in await _figure(
        session, workspace_id, f, (DURATION,), ("detail",), rollup=rollup
    ):
        counts[int(bucket)] += t.calls
        calls, duration, cost = calls + t.calls, duration + t.duration_s, cost + t.cost
    return counts, Tally(calls, duration, cost)


async def classification_counts(
    session: AsyncSession, workspace_id: str, f: AnalyticsFilter, *, rollup: bool = True
) -> dict[tuple[str, str | None], int]:
    """Calls per (platform_analysis_status, classification label) for analysed or pending calls.

    The label is read from the ``platform_analysis`` JSON (``classification``), which only calls
    whose analysis finished carry; None when there is none (or it is empty).
    """
    rows = await _figure(session, workspace_id, f, (LABEL,), ("status", "detail"), rollup=rollup)
    return {(str(s), str(lbl) or None): t.calls for (s, lbl), t in rows}


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
