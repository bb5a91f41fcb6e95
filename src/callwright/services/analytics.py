"""Analytics: the reporting window, the filters, and the aggregate reads behind ``/analytics/*``.

Dates. ``start_date`` and ``end_date`` take either a calendar day ``YYYY-MM-DD`` (Ringg's
documented form) or an ISO 8601 date-time with an offset (``2025-09-25T00:00:00+05:30``, or
``Z``). A day runs from its midnight to the next; ``end_date`` as a day includes that whole day,
as a date-time it is included to the microsecond. Days are read at the offset of whichever date
carries one (start_date first), else at UTC, and ``calls_per_day`` groups by days at that offset.
Without dates the window is the 30 days up to now; with only one date, the other is now or 30
days before the given end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.repositories import analytics as repo
from callwright.db.repositories.analytics import AnalyticsFilter
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.errors import InvalidRequest, NotFound

DEFAULT_WINDOW = timedelta(days=30)
_ONE_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Window:
    """The half-open interval ``[start, end)`` and the offset days are counted at."""

    start: datetime
    end: datetime
    utc_offset_min: int


def _parse(value: str, name: str) -> date | datetime:
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequest(
            f"Invalid date format for {name}: use YYYY-MM-DD or ISO 8601 with an offset, "
            "e.g. 2025-09-25 or 2025-09-25T00:00:00+05:30",
            code="invalid_parameter",
        ) from exc
    offset = parsed.utcoffset()
    if offset is None:
        raise InvalidRequest(
            f"{name} needs a time zone offset, e.g. 2025-09-25T00:00:00+05:30",
            code="invalid_parameter",
        )
    if offset % timedelta(minutes=1):
        raise InvalidRequest(f"{name}: offsets are whole minutes", code="invalid_parameter")
    return parsed


def window(
    start_date: str | None, end_date: str | None, *, now: Callable[[], datetime] | None = None
) -> Window:
    """Read the query's dates into a window (see the module docstring); bad input → 400."""
    start = _parse(start_date, "start_date") if start_date else None
    end = _parse(end_date, "end_date") if end_date else None
    zone: timezone = UTC
    for given in (start, end):
        if isinstance(given, datetime):
            offset = given.utcoffset()
            assert offset is not None
            zone = timezone(offset)
            break

    def instant(value: date | datetime, *, end_of: bool) -> datetime:
        if isinstance(value, datetime):
            return value + _ONE_US if end_of else value  # end is inclusive: make it exclusive
        day = value + timedelta(days=1) if end_of else value
        return datetime.combine(day, time(), tzinfo=zone)

    current = (now or (lambda: datetime.now(UTC)))()
    try:
        lo = instant(start, end_of=False) if start is not None else None
        hi = instant(end, end_of=True) if end is not None else None
        if hi is None:
            hi = max(current, lo) if lo is not None else current
        if lo is None:
            lo = hi - DEFAULT_WINDOW
        lo, hi = lo.astimezone(UTC), hi.astimezone(UTC)
    except OverflowError as exc:
        raise InvalidRequest("Date out of range", code="invalid_parameter") from exc
    if hi < lo or (hi == lo and start is not None and end is not None):
        raise InvalidRequest("end_date must not be before start_date", code="invalid_parameter")
    offset = zone.utcoffset(None)
    return Window(lo, hi, int(offset.total_seconds() // 60))


@dataclass(frozen=True, slots=True)
class Query:
    """One analytics request: the window and the optional filters, as the API received them."""

    start_date: str | None = None
    end_date: str | None = None
    agent_id: str | None = None
    bulk_list_id: str | None = None
    voicemail: bool | None = None


def _filter(q: Query) -> tuple[Window, AnalyticsFilter]:
    w = window(q.start_date, q.end_date)
    return w, AnalyticsFilter(
        start=w.start,
        end=w.end,
        utc_offset_min=w.utc_offset_min,
        agent_id=q.agent_id,
        bulk_list_id=q.bulk_list_id,
        voicemail=q.voicemail,
    )


@dataclass(frozen=True, slots=True)
class Platform:
    window: Window
    statuses: list[repo.StatusTally]
    breakdown: list[repo.BreakdownRow]
    days: list[repo.DayRow]
    agent_names: dict[str, str]
    workspace_numbers: int


def _by_status(rows: Iterable[repo.BreakdownRow | repo.SubStatusRow]) -> list[repo.StatusTally]:
    statuses: dict[tuple[str, bool], repo.Tally] = {}
    for r in rows:
        t = statuses.get((r.status, r.voicemail), repo.Tally(0, 0.0, 0.0))
        statuses[(r.status, r.voicemail)] = repo.Tally(
            t.calls + r.tally.calls, t.duration_s + r.tally.duration_s, t.cost + r.tally.cost
        )
    return [repo.StatusTally(s, vm, t) for (s, vm), t in statuses.items()]


async def _checked_agent(
    session: AsyncSession, workspace_id: str, agent_id: str | None
) -> dict[str, str]:
    """The filtered agent's classification labels; 404 when it is not this workspace's."""
    if agent_id is None:
        return {}
    found = await repo.agent_labels(session, workspace_id, [agent_id])
    if agent_id not in found:
        raise NotFound("Agent not found")
    return found[agent_id][1]


async def platform(uow: SessionFactory, workspace_id: str, q: Query) -> Platform:
    w, f = _filter(q)
    async with uow() as session:
        await _checked_agent(session, workspace_id, q.agent_id)
        rows = await repo.breakdown(session, workspace_id, f)
        days = await repo.per_day(session, workspace_id, f)
        agents = await repo.agent_labels(session, workspace_id, sorted({r.agent_id for r in rows}))
        numbers = await repo.workspace_numbers(session, workspace_id)
    return Platform(
        window=w,
        statuses=_by_status(rows),
        breakdown=rows,
        days=days,
        agent_names={a: name for a, (name, _) in agents.items()},
        workspace_numbers=len(numbers),
    )


@dataclass(frozen=True, slots=True)
class DrillDown:
    window: Window
    statuses: list[repo.StatusTally]
    rows: list[repo.SubStatusRow]
    days: list[repo.DayRow]


async def drill_down(uow: SessionFactory, workspace_id: str, q: Query) -> DrillDown:
    if not q.bulk_list_id:
        raise InvalidRequest("bulk_list_id is required", code="invalid_parameter")
    w, f = _filter(q)
    async with uow() as session:
        await _checked_agent(session, workspace_id, q.agent_id)
        rows = await repo.by_sub_status(session, workspace_id, f)
        days = await repo.per_day(session, workspace_id, f)
    return DrillDown(window=w, statuses=_by_status(rows), rows=rows, days=days)


@dataclass(frozen=True, slots=True)
class Numbers:
    window: Window
    rows: list[repo.NumberRow]
    number_ids: dict[str, str]


async def numbers(uow: SessionFactory, workspace_id: str, q: Query) -> Numbers:
    w, f = _filter(q)
    async with uow() as session:
        await _checked_agent(session, workspace_id, q.agent_id)
        rows = await repo.per_number(session, workspace_id, f)
        ids = await repo.workspace_numbers(session, workspace_id)
    return Numbers(w, rows, ids)


@dataclass(frozen=True, slots=True)
class Durations:
    window: Window
    counts: list[int]
    tally: repo.Tally


async def durations(uow: SessionFactory, workspace_id: str, q: Query) -> Durations:
    w, f = _filter(q)
    async with uow() as session:
        await _checked_agent(session, workspace_id, q.agent_id)
        counts, tally = await repo.duration_histogram(session, workspace_id, f)
    return Durations(w, counts, tally)


@dataclass(frozen=True, slots=True)
class Classifications:
    window: Window
    counts: dict[tuple[str, str | None], int]
    labels: dict[str, str]  # the filtered agent's labels (each listed, even at zero)


async def classifications(uow: SessionFactory, workspace_id: str, q: Query) -> Classifications:
    w, f = _filter(q)
    async with uow() as session:
        labels = await _checked_agent(session, workspace_id, q.agent_id)
        counts = await repo.classification_counts(session, workspace_id, f)
    return Classifications(w, counts, labels)
