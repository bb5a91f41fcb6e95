"""Campaigns after their upload: list them, pause and resume them, show their progress."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from callwright.db.models import Call, Workspace
from callwright.db.models_campaigns import Campaign
from callwright.db.unit_of_work import SessionFactory
from callwright.domain import credits
from callwright.domain.assistant import CallConfig
from callwright.domain.call import CallStatus
from callwright.domain.campaign import CampaignStatus
from callwright.domain.errors import InvalidRequest, NotFound
from callwright.jobs.port import JobError, JobSignals
from callwright.services.pacer import pacer_job


@dataclass(frozen=True, slots=True)
class Counts:
    total: int
    registered: int  # not finished yet (queued, in retry or on the line)
    completed: int
    by_status: dict[str, int]


@dataclass(frozen=True, slots=True)
class Listed:
    campaign: Campaign
    counts: Counts | None


async def get(uow: SessionFactory, workspace_id: str, campaign_id: str) -> Campaign:
    async with uow() as session:
        campaign = await session.scalar(
            select(Campaign).where(
                Campaign.id == campaign_id, Campaign.workspace_id == workspace_id
            )
        )
    if campaign is None:
        raise NotFound("Campaign not found")
    return campaign


async def page(
    uow: SessionFactory, workspace_id: str, *, limit: int, offset: int, with_counts: bool
) -> tuple[list[Listed], int]:
    async with uow() as session:
        rows = (
            await session.scalars(
                select(Campaign)
                .where(Campaign.workspace_id == workspace_id)
                .order_by(Campaign.created_at.desc(), Campaign.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        total = await session.scalar(
            select(func.count()).select_from(Campaign).where(Campaign.workspace_id == workspace_id)
        )
        counts = await _counts(session, workspace_id, [r.id for r in rows]) if with_counts else {}
    return [Listed(r, counts.get(r.id) if with_counts else None) for r in rows], int(total or 0)


async def counts(uow: SessionFactory, workspace_id: str, campaign_id: str) -> Counts:
    async with uow() as session:
        found = await _counts(session, workspace_id, [campaign_id])
    return found.get(campaign_id, Counts(0, 0, 0, {}))


async def _counts(session: object, workspace_id: str, ids: Sequence[str]) -> dict[str, Counts]:
    if not ids:
        return {}
    rows = (
        await session.execute(  # type: ignore[attr-defined]
            select(Call.bulk_list_id, Call.status, func.count())
            .where(Call.workspace_id == workspace_id, Call.bulk_list_id.in_(ids))
            .group_by(Call.bulk_list_id, Call.status)
        )
    ).all()
    by: dict[str, dict[str, int]] = {i: {} for i in ids}
    for list_id, status, n in rows:
        by[list_id][status] = n
    out = {}
    for list_id, statuses in by.items():
        total = sum(statuses.values())
        waiting = sum(
            statuses.get(s, 0)
            for s in (CallStatus.REGISTERED, CallStatus.RETRY, CallStatus.ONGOING)
        )
        out[list_id] = Counts(
            total=total,
            registered=waiting,
            completed=statuses.get(CallStatus.COMPLETED, 0),
            by_status=statuses,
        )
    return out


async def contacts_page(
    uow: SessionFactory, workspace_id: str, campaign_id: str, *, limit: int, offset: int
) -> list[Call]:
    """Per-contact progress: one call per contact, in the order they were queued."""
    async with uow() as session:
        rows = await session.scalars(
            select(Call)
            .where(Call.workspace_id == workspace_id, Call.bulk_list_id == campaign_id)
            .order_by(Call.created_at, Call.id)
            .limit(limit)
            .offset(offset)
        )
        return list(rows.all())


async def pause(uow: SessionFactory, workspace_id: str, campaign_id: str) -> Campaign:
    """Dial no one new (calls already on the line finish); the pacer keeps waiting."""
    return await _move(
        uow,
        workspace_id,
        campaign_id,
        allowed=(CampaignStatus.SCHEDULED, CampaignStatus.RUNNING),
        to=CampaignStatus.PAUSED,
    )


async def resume(
    uow: SessionFactory, signals: JobSignals | None, workspace_id: str, campaign_id: str
) -> Campaign:
    campaign = await _move(
        uow,
        workspace_id,
        campaign_id,
        allowed=(CampaignStatus.PAUSED,),
        to=CampaignStatus.RUNNING,
    )
    if signals is not None:
        key = pacer_job(campaign.id, workspace_id, campaign.pacer_generation).key
        with contextlib.suppress(JobError):  # the pacer also wakes within its idle interval
            await signals.signal(key, "wake", {"reason": "resumed"})
    return campaign


async def _move(
    uow: SessionFactory,
    workspace_id: str,
    campaign_id: str,
    *,
    allowed: tuple[CampaignStatus, ...],
    to: CampaignStatus,
) -> Campaign:
    now = datetime.now(UTC)
    async with uow.begin() as session:
        result = await session.execute(
            update(Campaign)
            .where(
                Campaign.id == campaign_id,
                Campaign.workspace_id == workspace_id,
                Campaign.status.in_([s.value for s in allowed]),
            )
            .values(status=to, updated_at=now)
        )
        campaign = await session.scalar(
            select(Campaign).where(
                Campaign.id == campaign_id, Campaign.workspace_id == workspace_id
            )
        )
    if campaign is None:
        raise NotFound("Campaign not found")
    if not result.rowcount:  # type: ignore[attr-defined]
        raise InvalidRequest(f"Campaign is {campaign.status}; it cannot be {to.value}")
    return campaign


@dataclass(frozen=True, slots=True)
class Balance:
    required: float
    available: float
    status: str  # the campaign's, after the check

    @property
    def sufficient(self) -> bool:
        return self.available >= self.required


async def balance(
    uow: SessionFactory,
    workspace_id: str,
    campaign_id: str,
    *,
    contacts: int,
    credits_per_minute: float,
) -> Balance:
    """What starting the campaign would lock, against what the workspace has free."""
    campaign = await get(uow, workspace_id, campaign_id)
    config = CallConfig.model_validate(campaign.call_config or {})
    each = credits.estimate(config.max_call_length, credits_per_minute=credits_per_minute)
    async with uow.begin() as session:
        ws = await session.get(Workspace, workspace_id)
        assert ws is not None
        required, available = round(each * contacts, 4), round(ws.credits - ws.locked_credits, 4)
        status = campaign.status
        if available >= required and status == CampaignStatus.INSUFFICIENT_BALANCE:
            status = CampaignStatus.DRAFT  # ready to start again
            await session.execute(
                update(Campaign).where(Campaign.id == campaign.id).values(status=status)
            )
    return Balance(required=required, available=available, status=status)
