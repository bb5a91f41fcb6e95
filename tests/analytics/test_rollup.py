"""The analytics roll-up on SQLite and PostgreSQL: every figure read from roll-up plus calls
equals the same figure read from the calls alone, for random windows, day offsets and filters,
while calls finish, get analysed and are rolled up between reads; each final call is rolled up
exactly once, also by several roll-ups at once; and the server's loop does it by itself."""

from __future__ import annotations

import asyncio
import math
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from callwright.api.app import create_app
from callwright.bootstrap import Overrides
from callwright.db.engine import create_engine, session_factory
from callwright.db.migrate import upgrade
from callwright.db.models import Call, Workspace
from callwright.db.models_analytics import ALL, CallRollup
from callwright.db.repositories import analytics as repo
from callwright.db.repositories.analytics import AnalyticsFilter, Tally
from callwright.db.unit_of_work import SessionFactory
from callwright.services.analytics_rollup import AnalyticsRollup
from callwright.settings import Settings

BASE = datetime(2025, 3, 10, tzinfo=UTC)  # a Monday, 00:00 UTC
AGENTS, LISTS, NUMBERS = ("agent-1", "agent-2", "agent-3"), ("list-1", "list-2"), ("+1", "+2")
STATUSES = ("registered", "ongoing", "retry", "completed", "failed", "error", "cancelled",
            "forwarded")  # fmt: skip
# +00:07 is no whole number of quarter hours: its days are read from the calls alone.
OFFSETS_MIN = (0, 330, 345, -210, 60, 7)
FIGURES: tuple[Callable[..., Awaitable[Any]], ...] = (
    repo.breakdown,
    repo.per_day,
    repo.by_sub_status,
    repo.per_number,
    repo.duration_histogram,
    repo.classification_counts,
)


@pytest.fixture
async def engine(database_url: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    created = create_engine(settings.resolved_database_url())
    await upgrade(created)
    yield created
    await created.dispose()


async def _workspace(uow: SessionFactory) -> str:
    workspace_id = str(uuid.uuid4())
    async with uow.begin() as session:
        session.add(Workspace(id=workspace_id, name="rollup"))
    return workspace_id


def _moment(rnd: random.Random) -> datetime:
    """Anywhere in [BASE - 1 day, BASE + 6 days), often exactly on a quarter hour (a bucket edge,
    or a local midnight at some offset) or a microsecond before one."""
    if rnd.random() < 0.3:
        edge = BASE + timedelta(minutes=15 * rnd.randrange(-96, 96 * 6))
        return edge - timedelta(microseconds=rnd.choice((0, 0, 1)))
    return BASE + timedelta(seconds=rnd.uniform(-86400, 6 * 86400))


def _call(rnd: random.Random, workspace_id: str) -> Call:
    status = rnd.choice(STATUSES)
    analysis = "not_enabled"
    if status == "completed":
        analysis = rnd.choice(("success", "success", "pending", "failed", "not_enabled"))
    label = rnd.choice(("interested", "callback", None, ""))
    created = _moment(rnd)
    return Call(
        id=str(uuid.uuid4()),
        workspace_id=workspace_id,
        agent_id=rnd.choice(AGENTS),
        agent_version_id="v",
        status=status,
        sub_status=rnd.choice(("ACCEPTED", "busy line", "no answer", "QUEUED")),
        to_number="+919800000000",
        from_number=rnd.choice((*NUMBERS, None)),
        created_at=created,
        due_at=created + timedelta(days=3650),  # never due: no server's dispatcher dials it
        call_duration=rnd.choice((0.0, 9.99, 10.0, 59.99, 600.0, round(rnd.uniform(0, 900), 2))),
        call_cost=round(rnd.uniform(0, 20), 4),
        voicemail_detected=rnd.random() < 0.15,
        bulk_list_id=rnd.choice((*LISTS, None)),
        platform_analysis_status=analysis,
        platform_analysis={"classification": label} if analysis == "success" else None,
    )


def _filter(rnd: random.Random) -> AnalyticsFilter:
    offset = rnd.choice(OFFSETS_MIN)
    if rnd.random() < 0.5:  # whole local days, as YYYY-MM-DD windows are
        start = BASE + timedelta(days=rnd.randrange(-1, 5), minutes=-offset)
        end = start + timedelta(days=rnd.randrange(1, 6))
    else:
        start = _moment(rnd) + timedelta(microseconds=rnd.randrange(2))
        end = start + timedelta(seconds=rnd.uniform(0, 7 * 86400))
    return AnalyticsFilter(
        start=start,
        end=end,
        utc_offset_min=offset,
        agent_id=rnd.choice((None, None, *AGENTS[:2])),
        bulk_list_id=rnd.choice((None, None, *LISTS)),
        voicemail=rnd.choice((None, None, True, False)),
    )


def _keyed(result: Any) -> dict[Any, Any]:
    """A figure as {key: count or Tally}, whatever shape its function returns."""
    if isinstance(result, dict):
        return result
    if isinstance(result, tuple):  # duration_histogram: (counts, tally)
        counts, tally = result
        return {"counts": tuple(counts), "tally": tally}
    keyed = {}
    for row in result:
        assert is_dataclass(row)
        key = tuple(getattr(row, f.name) for f in fields(row) if f.name != "tally")
        assert key not in keyed
        keyed[key] = row.tally
    return keyed


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Tally) and isinstance(b, Tally):
        # Sums of floats in another order: equal but for the last bits.
        return (
            a.calls == b.calls
            and math.isclose(a.duration_s, b.duration_s, rel_tol=1e-9, abs_tol=1e-6)
            and math.isclose(a.cost, b.cost, rel_tol=1e-9, abs_tol=1e-6)
        )
    return bool(a == b)


async def _assert_exact(uow: SessionFactory, workspace_id: str, rnd: random.Random) -> None:
    async with uow() as session:
        for _ in range(25):
            f = _filter(rnd)
            for figure in FIGURES:
                rolled = _keyed(await figure(session, workspace_id, f))
                raw = _keyed(await figure(session, workspace_id, f, rollup=False))
                assert rolled.keys() == raw.keys(), (figure.__name__, f)
                for key, value in raw.items():
                    assert _same(rolled[key], value), (figure.__name__, f, key, rolled[key], value)


async def test_rollup_plus_calls_equals_calls_alone(engine: AsyncEngine) -> None:
    rnd = random.Random(20251110)
    uow = session_factory(engine)
    workspace_id = await _workspace(uow)
    rows = [_call(rnd, workspace_id) for _ in range(400)]
    async with uow.begin() as session:
        session.add_all(rows)
    await _assert_exact(uow, workspace_id, rnd)  # nothing rolled up

    rollup = AnalyticsRollup(uow=uow, batch=60)
    await rollup.roll_up_once()  # some final calls rolled up, others not yet
    await _assert_exact(uow, workspace_id, rnd)
    await rollup.drain()
    await _assert_exact(uow, workspace_id, rnd)
    async with uow() as session:
        held = await session.scalar(
            select(func.count()).where(CallRollup.workspace_id == workspace_id)
        )
    assert held  # the reads above did use the roll-up

    # Calls finish after the roll-up ran: completed, analysis pending, not final yet.
    waiting = [r.id for r in rows if r.status in ("registered", "ongoing", "retry")]
    finishing, later = waiting[: len(waiting) // 2], waiting[len(waiting) // 2 :]
    async with uow.begin() as session:
        await session.execute(
            update(Call)
            .where(Call.id.in_(finishing))
            .values(status="completed", call_duration=42.5, call_cost=1.25,
                    platform_analysis_status="pending")
        )  # fmt: skip
        await session.execute(
            update(Call).where(Call.id.in_(later)).values(status="failed", sub_status="busy line")
        )
    await _assert_exact(uow, workspace_id, rnd)
    await rollup.drain()  # the failed ones are final now; the pending ones wait
    await _assert_exact(uow, workspace_id, rnd)

    # The analysis lands (and, as the analyst does, finds a voicemail); then a failed analysis
    # is retried and succeeds.
    retried = [r.id for r in rows if r.platform_analysis_status == "failed"]
    async with uow.begin() as session:
        await session.execute(
            update(Call)
            .where(Call.id.in_(finishing[::2]))
            .values(platform_analysis_status="success",
                    platform_analysis={"classification": "callback"}, voicemail_detected=True,
                    sub_status="VOICEMAIL_DETECTED_VIA_LLM")
        )  # fmt: skip
        await session.execute(
            update(Call)
            .where(Call.id.in_(retried))
            .values(platform_analysis_status="success", platform_analysis={"classification": "x"})
        )
    await _assert_exact(uow, workspace_id, rnd)
    await rollup.roll_up_once()
    await _assert_exact(uow, workspace_id, rnd)
    await rollup.drain()
    await _assert_exact(uow, workspace_id, rnd)


async def test_the_middle_of_a_window_is_read_from_the_rollup(engine: AsyncEngine) -> None:
    """Proof that reads use the roll-up: a rolled-up call changed behind its back (which
    nothing in callwright does) keeps its old figures in the middle of a window, and shows its
    new ones at the window's ragged end, read from the calls."""
    uow = session_factory(engine)
    workspace_id = await _workspace(uow)
    async with uow.begin() as session:
        session.add(
            Call(id=str(uuid.uuid4()), workspace_id=workspace_id, agent_id="a",
                 agent_version_id="v", status="completed", sub_status="ACCEPTED", to_number="+1",
                 created_at=BASE + timedelta(hours=30), call_duration=60.0, call_cost=2.0)
        )  # fmt: skip
    await AnalyticsRollup(uow=uow).drain()
    async with uow.begin() as session:
        await session.execute(
            update(Call).where(Call.workspace_id == workspace_id).values(call_cost=5.0)
        )
    whole_days = AnalyticsFilter(start=BASE, end=BASE + timedelta(days=3))
    ragged = AnalyticsFilter(start=BASE + timedelta(hours=29, minutes=59), end=whole_days.end)
    async with uow() as session:
        assert (await repo.duration_histogram(session, workspace_id, whole_days))[1].cost == 2.0
        assert (await repo.duration_histogram(session, workspace_id, ragged))[1].cost == 5.0


async def test_each_final_call_is_rolled_up_once_by_concurrent_rollups(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    """Three roll-ups at once: on PostgreSQL three engines, as three worker processes are; on
    SQLite one process's loops, which take turns on the write lock."""
    uow = session_factory(engine)
    workspace_id = await _workspace(uow)
    rnd = random.Random(7)
    rows = [_call(rnd, workspace_id) for _ in range(300)]
    async with uow.begin() as session:
        session.add_all(rows)
    others: list[AsyncEngine] = []
    if engine.dialect.name == "postgresql":
        url = Settings(data_dir=tmp_path, database_url=database_url).resolved_database_url()
        others = [create_engine(url), create_engine(url)]
    uows = [uow, *(session_factory(e) for e in others)] if others else [uow, uow, uow]
    try:
        await asyncio.gather(*[AnalyticsRollup(uow=u, batch=7).drain() for u in uows])
        await AnalyticsRollup(uow=uow).drain()  # what a round that found the lock taken left
    finally:
        for e in others:
            await e.dispose()
    final = [
        r for r in rows
        if r.status in ("completed", "failed", "error", "cancelled", "forwarded")
        and r.platform_analysis_status in ("success", "not_enabled")
    ]  # fmt: skip
    async with uow() as session:
        rolled = await session.scalar(
            select(func.count()).where(Call.workspace_id == workspace_id, Call.rolled_up)
        )
        summed = await session.scalar(
            select(func.sum(CallRollup.calls)).where(
                CallRollup.workspace_id == workspace_id,
                CallRollup.view == "number",
                CallRollup.agent_id == ALL,
                CallRollup.bulk_list_id == ALL,
            )
        )
    assert rolled == summed == len(final)
    await _assert_exact(uow, workspace_id, rnd)


async def test_the_server_rolls_up_by_itself(settings: Settings) -> None:
    app = create_app(settings, overrides=Overrides(memory_jobs=True))
    async with app.router.lifespan_context(app):
        uow: SessionFactory = app.state.container.uow
        workspace_id = await _workspace(uow)
        async with uow.begin() as session:
            session.add(
                Call(id=str(uuid.uuid4()), workspace_id=workspace_id, agent_id="a",
                     agent_version_id="v", status="failed", sub_status="busy line",
                     to_number="+1", created_at=BASE)
            )  # fmt: skip
        for _ in range(150):  # the loop polls every 5 s
            async with uow() as session:
                done = await session.scalar(
                    select(Call.rolled_up).where(Call.workspace_id == workspace_id)
                )
            if done:
                break
            await asyncio.sleep(0.1)
        assert done


async def test_windows_at_the_ends_of_time(engine: AsyncEngine) -> None:
    """Whole buckets are sought only in windows at least one bucket long, so rounding a start
    up never passes the largest datetime."""
    uow = session_factory(engine)
    workspace_id = await _workspace(uow)
    last = datetime.max.replace(tzinfo=UTC)
    windows = [
        AnalyticsFilter(start=last - timedelta(hours=23), end=last, utc_offset_min=330),
        AnalyticsFilter(start=last - timedelta(days=3, seconds=1), end=last),
        AnalyticsFilter(start=datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC), end=BASE),
    ]
    async with uow() as session:
        for f in windows:
            for figure in FIGURES:
                await figure(session, workspace_id, f)  # no OverflowError
            assert (await repo.duration_histogram(session, workspace_id, f))[1].calls == 0
