"""The campaign pacer: one durable job per campaign that hands its due calls to the workers.

Each tick reads the campaign (a status column is all that pause, resume and terminate
change), starts it at its start time, ends it at its end time or when every contact is
done, and claims the calls that are due and fit under the caps. The claimed calls are
enqueued as ``call`` jobs; the dial workers do the rest. Long waits (window, retry delays)
live in the calls' ``due_at``, never in a capped queue. While calls are in flight the pacer
ticks every ``busy_interval_s``, and at once when one of them ends in its own process.

All state is in the app database, so a tick may run again after a crash without harm. To
keep the job's own history short, the pacer hands over to a fresh run of itself (the next
*generation*) every ``ticks_per_run`` ticks, as Temporal's continue-as-new does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from callwright.db.models import Call
from callwright.db.models_campaigns import Campaign
from callwright.db.repositories import calls as calls_repo
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.call import TERMINABLE, CallStatus, SubStatus
from callwright.domain.campaign import CampaignStatus
from callwright.jobs.port import JobContext, JobSpec
from callwright.services.capacity import LIVE, Claimed, Scope, claim_due
from callwright.services.dialing import Enqueue
from callwright.services.events import record_call_completed

log = logging.getLogger(__name__)
PACER_JOB = "campaign_pacer"


def pacer_job(campaign_id: str, workspace_id: str, generation: int) -> JobSpec:
    return JobSpec(
        kind=PACER_JOB,
        key=f"campaign:{campaign_id}:{generation}",
        payload={
            "campaign_id": campaign_id,
            "workspace_id": workspace_id,
            "generation": generation,
        },
    )


@dataclass(frozen=True, slots=True)
class Tick:
    claimed: tuple[Claimed, ...] = ()
    finished: bool = False
    sleep_s: float = 0.0
    # Calls in flight or waiting for a slot: look again when a line frees, or at this time.
    busy_until: datetime | None = None


@dataclass
class Pacer:
    uow: SessionFactory
    enqueue: Enqueue
    backlog: int
    workspace_default_cap: int
    busy_interval_s: float = 0.25  # calls in flight: look again soon, a slot may free up
    idle_interval_s: float = 5.0  # nothing due: still wake up for a pause, resume or terminate
    ticks_per_run: int = 300
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _freed: dict[str, asyncio.Event] = field(default_factory=dict, init=False, repr=False)

    def line_freed(self, campaign_id: str) -> None:
        """A call of this campaign ended in this process: its pacer, if it runs here, looks
        for the next due call now instead of at its next tick (a line refills ~0.25 s sooner)."""
        if (event := self._freed.get(campaign_id)) is not None:
            event.set()

    async def run(self, ctx: JobContext, payload: Mapping[str, Any]) -> None:
        """The ``campaign_pacer`` job handler."""
        campaign_id, workspace_id = str(payload["campaign_id"]), str(payload["workspace_id"])
        generation = int(payload["generation"])
        freed = self._freed[campaign_id] = asyncio.Event()
        try:
            for n in range(self.ticks_per_run):
                freed.clear()
                tick = await ctx.step(f"tick-{n}", lambda: self.tick(workspace_id, campaign_id))
                for c in tick.claimed:  # enqueued from the job body: recorded as child jobs
                    await self.enqueue(c.job())
                if tick.finished:
                    return
                if tick.busy_until is not None:
                    # Not a durable wait (a pause or terminate is seen at the next tick
                    # anyway), so it ends at a recorded time: a re-run after a crash replays
                    # the ticks it passed without waiting for them again.
                    left_s = (tick.busy_until - self.now()).total_seconds()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(max(0.0, left_s)):
                            await freed.wait()
                else:  # paused or idle: a resume signals the job
                    await ctx.wait_signal("wake", timeout_s=tick.sleep_s)
        finally:
            if self._freed.get(campaign_id) is freed:
                del self._freed[campaign_id]
        await ctx.step("hand-over", lambda: self._next_generation(campaign_id, generation))
        await self.enqueue(pacer_job(campaign_id, workspace_id, generation + 1))

    async def tick(self, workspace_id: str, campaign_id: str) -> Tick:
        now = self.now()
        async with self.uow.begin() as session:
            # Locked: the status this tick moves on (scheduled -> running, -> completed) must
            # not overwrite a pause or terminate committed since it was read.
            campaign = await session.get(Campaign, campaign_id, with_for_update=True)
            if campaign is None or campaign.workspace_id != workspace_id:
                return Tick(finished=True)
            status = CampaignStatus(campaign.status)
            if not status.is_active:
                return Tick(finished=True)
            if status is CampaignStatus.PAUSED:
                return Tick(sleep_s=self.idle_interval_s)
            if campaign.start_at is not None and now < campaign.start_at:
                wait = (campaign.start_at - now).total_seconds()
                return Tick(sleep_s=min(wait, self.idle_interval_s))
            if status is CampaignStatus.SCHEDULED:
                campaign.status, campaign.updated_at = CampaignStatus.RUNNING, now
            if campaign.end_at is not None and now >= campaign.end_at:
                await _end_waiting_calls(session, campaign, now)
            claimed = await claim_due(
                session,
                scope=Scope(campaign_id=campaign_id),
                now=now,
                backlog=self.backlog,
                workspace_default_cap=self.workspace_default_cap,
            )
            remaining = await session.scalar(
                select(func.count())
                .select_from(Call)
                .where(Call.bulk_list_id == campaign_id, Call.status.in_(LIVE))
            )
            if not remaining:
                campaign.status = CampaignStatus.COMPLETED
                campaign.ended_at = campaign.updated_at = now
                return Tick(finished=True)
            next_due = await session.scalar(
                select(func.min(Call.due_at)).where(
                    Call.bulk_list_id == campaign_id,
                    Call.status.in_(TERMINABLE),
                    Call.dispatched_at.is_(None),
                )
            )
        if claimed or next_due is None or next_due <= now:
            # Calls are in flight or waiting for a slot: one may free up any moment.
            until = now + timedelta(seconds=self.busy_interval_s)
            return Tick(claimed=tuple(claimed), busy_until=until)
        return Tick(sleep_s=min((next_due - now).total_seconds(), self.idle_interval_s))

    async def _next_generation(self, campaign_id: str, generation: int) -> None:
        async with self.uow.begin() as session:
            await session.execute(
                update(Campaign)
                .where(Campaign.id == campaign_id, Campaign.pacer_generation == generation)
                .values(pacer_generation=generation + 1)
            )


async def _end_waiting_calls(session: Any, campaign: Campaign, now: datetime) -> None:
    """The campaign passed its end time: calls not yet dialled will not be."""
    rows = (
        await session.scalars(
            select(Call).where(
                Call.bulk_list_id == campaign.id,
                Call.status.in_(TERMINABLE),
                Call.dispatched_at.is_(None),
            )
        )
    ).all()
    released = 0.0
    for call in rows:
        call.status, call.sub_status = CallStatus.CANCELLED, SubStatus.CAMPAIGN_ENDED
        call.ended_at = now
        released += call.locked_credits
        call.locked_credits, call.credits_processed = 0.0, True
        await record_call_completed(session, call)
    if released:
        await calls_repo.settle_credits(session, campaign.workspace_id, locked=released, cost=0.0)
