"""On start-up, make sure every handed-over call and every pending analysis has its job.

Enqueueing is idempotent by key, so this only fills the gap a crash can leave between
"dispatched" (or "analysis pending") being committed and the job being enqueued.
"""

from __future__ import annotations

from sqlalchemy import select

from callwright.db.models import Call
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.call import TERMINABLE
from callwright.services.calls import call_job
from callwright.services.dialing import Enqueue, analysis_job


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
    for call in waiting:
        await enqueue(call_job(call.id, call.workspace_id, attempt=call.retry_count))
    for call in analysing:
        await enqueue(analysis_job(call))
    return len(waiting) + len(analysing)
