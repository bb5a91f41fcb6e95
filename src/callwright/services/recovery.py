"""Make sure every handed-over call, every pending analysis and every active campaign has
its job: all of them on start-up, and handed-over calls again while running.

Enqueueing is idempotent by key, so this only fills the gap a crash can leave between
"dispatched" (or "analysis pending") being committed and the job being enqueued. A process
that restarts fills its own gaps on start-up; the gaps of a process that died for good (or of
a pacer step whose claim committed just before its worker died, and which re-ran elsewhere
and claimed other calls) are filled by :func:`requeue_stale_dispatches`, which the dispatcher
runs on every worker.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from callwright.db.models import Call
from callwright.db.models_campaigns import Campaign
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.call import TERMINABLE
from callwright.domain.campaign import CampaignStatus
from callwright.services.calls import call_job
from callwright.services.dialing import Enqueue, analysis_job
from callwright.services.pacer import pacer_job


async def requeue_unfinished(uow: SessionFactory, enqueue: Enqueue) -> int:
    waiting = await requeue_stale_dispatches(uow, enqueue, dispatched_before=None)
    async with uow() as session:
        analysing = (
            await session.scalars(select(Call).where(Call.platform_analysis_status == "pending"))
        ).all()
        campaigns = (
            await session.execute(
                select(Campaign.id, Campaign.workspace_id, Campaign.pacer_generation).where(
                    Campaign.status.in_([s.value for s in CampaignStatus if s.is_active])
                )
            )
        ).all()
    for call in analysing:
        await enqueue(analysis_job(call))
    for c in campaigns:
        await enqueue(pacer_job(c.id, c.workspace_id, c.pacer_generation))
    return waiting + len(analysing) + len(campaigns)


async def requeue_stale_dispatches(
    uow: SessionFactory, enqueue: Enqueue, *, dispatched_before: datetime | None
) -> int:
    """Enqueue (again) the jobs of calls handed over before ``dispatched_before`` (None: all)
    that no job has claimed yet; returns how many. A call whose job merely waits in its queue
    is untouched: the job key is the same."""
    query = select(
        Call.id, Call.workspace_id, Call.retry_count, Call.dispatches, Call.bulk_list_id
    ).where(Call.status.in_(TERMINABLE), Call.dispatched_at.is_not(None))
    if dispatched_before is not None:
        query = query.where(Call.dispatched_at < dispatched_before)
    async with uow() as session:
        rows = (await session.execute(query)).all()
    for r in rows:
        await enqueue(
            call_job(
                r.id,
                r.workspace_id,
                attempt=r.retry_count,
                dispatch=r.dispatches,
                campaign_id=r.bulk_list_id,
            )
        )
    return len(rows)
