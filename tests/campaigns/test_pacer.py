"""The pacer's tick against concurrent status changes (real database, both engines)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from callwright.db.models_campaigns import Campaign
from callwright.domain.campaign import CampaignStatus
from callwright.jobs.port import JobSpec
from callwright.services.campaign_start import StartRequest, start_campaign
from callwright.services.pacer import Pacer, Tick
from tests.calls.conftest import Platform
from tests.campaigns.helpers import agent_and_number, csv_of, numbers, save
from tests.conftest import Tenant

T = TypeVar("T")


async def test_a_pause_committed_while_a_tick_runs_is_never_overwritten(
    tenant: Tenant, platform: Platform
) -> None:
    """The first tick moves a campaign from scheduled to running; a pause that commits while
    it runs must win, and the tick must then dial no one (a lost update did both)."""
    c = platform.app.state.container
    agent_id, number = await agent_and_number(tenant)
    campaign_id = (await save(tenant, agent_id, csv_of(numbers(3)))).json()["list_id"]
    jobs: list[JobSpec] = []

    async def keep(job: JobSpec) -> None:  # no worker runs these: the test ticks by hand
        jobs.append(job)

    request = StartRequest(campaign_id, agent_id, from_numbers=(number["id"],))
    await start_campaign(
        c.uow, keep, tenant.workspace_id, request, credits_per_minute=1.5, workspace_default_cap=10
    )
    pacer = Pacer(uow=c.uow, enqueue=keep, backlog=100, workspace_default_cap=10)
    async with c.uow.begin() as session:
        campaign = await session.get(Campaign, campaign_id, with_for_update=True)
        assert campaign is not None and campaign.status == CampaignStatus.SCHEDULED
        ticking = asyncio.create_task(pacer.tick(tenant.workspace_id, campaign_id))
        await asyncio.sleep(0.3)  # the tick reads the campaign now, or waits for this lock
        campaign.status = CampaignStatus.PAUSED
    tick = await ticking

    assert tick.claimed == () and not tick.finished
    async with c.uow() as session:
        after = await session.get(Campaign, campaign_id)
    assert after is not None and after.status == CampaignStatus.PAUSED


class Replay:
    """A re-run after a crash, as the job engine does it: every step returns its recorded
    result (here: busy ticks recorded two minutes ago, then the campaign's end)."""

    def __init__(self, ticks: list[Tick]) -> None:
        self._ticks = {f"tick-{n}": t for n, t in enumerate(ticks)}

    @property
    def key(self) -> str:
        return "campaign:replayed:0"

    async def step(self, name: str, fn: Callable[[], Awaitable[T]], **_: Any) -> T:
        return cast(T, self._ticks[name])

    async def sleep_until(self, when: datetime) -> None:
        raise AssertionError("the pacer never sleeps durably")

    async def wait_signal(self, topic: str, *, timeout_s: float) -> Mapping[str, Any] | None:
        raise AssertionError("busy ticks do not wait for signals")


async def test_a_rerun_replays_past_busy_ticks_without_waiting_for_them_again() -> None:
    pacer = Pacer(uow=cast(Any, None), enqueue=cast(Any, None), backlog=1, workspace_default_cap=1)
    pacer.busy_interval_s = 60.0
    then = datetime.now(UTC) - timedelta(minutes=2)
    busy = [Tick(busy_until=then + timedelta(seconds=pacer.busy_interval_s))] * 100
    payload = {"campaign_id": "c", "workspace_id": "w", "generation": 0}
    async with asyncio.timeout(5):  # one wait per replayed tick would take 100 minutes
        await pacer.run(Replay([*busy, Tick(finished=True)]), payload)
