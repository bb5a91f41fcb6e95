"""PATCH /campaign/terminate: cancel calls that have not been dialled yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Call
from callwright.db.models_campaigns import Campaign
from callwright.db.repositories import calls as repo
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.call import TERMINABLE, CallStatus, SubStatus
from callwright.domain.campaign import AWAITING_START, CampaignStatus
from callwright.domain.errors import InvalidRequest
from callwright.domain.phone import normalize_e164
from callwright.jobs.port import JobRunner
from callwright.services.events import record_call_completed


@dataclass(frozen=True, slots=True)
class Terminate:
    agent_id: str | None = None
    call_ids: tuple[str, ...] = ()
    campaign_id: str | None = None
    mobile_numbers: tuple[str, ...] = ()


async def terminate(
    uow: SessionFactory, jobs: JobRunner, workspace_id: str, t: Terminate
) -> list[str]:
    """Cancel the matching calls still ``registered`` or in ``retry``; returns their ids.

    One conditional UPDATE decides, and the dialler claims a call with a conditional UPDATE
    too, so each call is either cancelled or dialled, never both.
    """
    if not (t.agent_id or t.call_ids or t.campaign_id or t.mobile_numbers):
        raise InvalidRequest("Give at least one of agent_id, call_ids, campaign_id, mobile_numbers")
    cancel = update(Call).where(Call.workspace_id == workspace_id, Call.status.in_(TERMINABLE))
    if t.agent_id:
        cancel = cancel.where(Call.agent_id == t.agent_id)
    if t.call_ids:
        cancel = cancel.where(Call.id.in_(t.call_ids))
    if t.campaign_id:
        cancel = cancel.where(Call.bulk_list_id == t.campaign_id)
    if t.mobile_numbers:
        cancel = cancel.where(Call.to_number.in_([normalize_e164(n) for n in t.mobile_numbers]))
    cancel = cancel.values(status=CallStatus.CANCELLED, sub_status=SubStatus.USER_TERMINATED)
    async with uow.begin() as session:
        stopped = await _stop_campaign(session, workspace_id, t)
        rows = (
            await session.execute(
                cancel.returning(Call.id, Call.dispatches, Call.locked_credits),
                execution_options={"synchronize_session": False},
            )
        ).all()
        if not rows and not stopped:
            raise InvalidRequest("No terminable calls found")
        ids = [r.id for r in rows]
        await session.execute(
            update(Call).where(Call.id.in_(ids)).values(locked_credits=0.0),
            execution_options={"synchronize_session": False},
        )
        released = sum(r.locked_credits for r in rows)
        await repo.settle_credits(session, workspace_id, locked=released, cost=0.0)
        for call in (await session.scalars(select(Call).where(Call.id.in_(ids)))).all():
            await record_call_completed(session, call)  # commits with the cancellation
    for row in rows:
        await jobs.cancel(f"call:{row.id}:{row.dispatches}")
    return ids


async def _stop_campaign(session: AsyncSession, workspace_id: str, t: Terminate) -> bool:
    """Terminating a whole campaign also ends it: its pacer stops, its status says so. One
    not started yet is cancelled too (so it can no longer start, nor hold its list)."""
    if not t.campaign_id or t.mobile_numbers:
        return False
    now = datetime.now(UTC)
    result = await session.execute(
        update(Campaign)
        .where(
            Campaign.id == t.campaign_id,
            Campaign.workspace_id == workspace_id,
            Campaign.status.in_(
                [s.value for s in CampaignStatus if s.is_active] + [s.value for s in AWAITING_START]
            ),
        )
        .values(status=CampaignStatus.CANCELLED, ended_at=now, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
