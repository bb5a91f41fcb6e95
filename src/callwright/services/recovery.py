"""On start-up, make sure every handed-over call, every pending analysis and every active
campaign has its job.

Enqueueing is idempotent by key, so this only fills the gap a crash can leave between
"dispatched" (or "analysis pending") being committed and the job being enqueued.
"""

from __future__ import annotations

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
    async with uow() as session:
        waiting = (
            await session.scalars(
                select(Call).where(Call.status.in_(TERMINABLE), Call.dispatched_at.is_not(None))
            )
        ).all()
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
    for call in waiting:
        await enqueue(
            call_job(call.id, call.workspace_id, attempt=call.retry_count, dispatch=call.dispatches)
        )
    for call in analysing:
        await enqueue(analysis_job(call))
    for c in campaigns:
        await enqueue(pacer_job(c.id, c.workspace_id, c.pacer_generation))
    return len(waiting) + len(analysing) + len(campaigns)
