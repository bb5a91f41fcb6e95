"""Starting a campaign: every contact becomes a queued call, and the pacer takes over.

One transaction checks the campaign, the assistant, the caller numbers and the credits,
writes the calls (bulk inserts) and locks their credits; the pacer job is enqueued after it
commits (its key is the campaign and generation, so enqueueing again is harmless).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Call, Workspace
from callwright.db.models_campaigns import Campaign
from callwright.db.models_contacts import Contact
from callwright.db.repositories import agents as agents_repo
from callwright.db.repositories import calls as calls_repo
from callwright.db.unit_of_work import SessionFactory
from callwright.domain import credits
from callwright.domain.assistant import VersionSettings
from callwright.domain.call import CallStatus, SubStatus
from callwright.domain.calling_window import next_allowed
from callwright.domain.campaign import STARTABLE, CampaignStatus
from callwright.domain.errors import InsufficientCredits, InvalidRequest, NotFound
from callwright.domain.ids import new_id
from callwright.services.calls import caller_numbers, merged_call_config
from callwright.services.dialing import Enqueue
from callwright.services.pacer import pacer_job

_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class StartRequest:
    campaign_id: str
    agent_id: str
    from_numbers: tuple[str, ...] = ()  # E.164 numbers or number ids (Ringg accepts both)
    number_pool_id: str | None = None
    call_config: dict[str, Any] = field(default_factory=dict)  # overrides the campaign's
    start_at: datetime | None = None
    end_at: datetime | None = None
    concurrency_percentage: int = 0  # of the workspace's cap (Ringg); 0: no campaign cap
    max_concurrent_calls: int | None = None  # ours: an absolute cap


@dataclass(frozen=True, slots=True)
class Started:
    campaign_id: str
    status: CampaignStatus
    has_ongoing_calls: bool


async def start_campaign(
    uow: SessionFactory,
    enqueue: Enqueue,
    workspace_id: str,
    req: StartRequest,
    *,
    credits_per_minute: float,
    workspace_default_cap: int,
    now: datetime | None = None,
) -> Started:
    now = now or datetime.now(UTC)
    try:
        async with uow.begin() as session:
            started = await _start(
                session,
                workspace_id,
                req,
                credits_per_minute=credits_per_minute,
                workspace_default_cap=workspace_default_cap,
                now=now,
            )
    except InsufficientCredits:
        async with uow.begin() as session:  # remembered, so check-balance can tell
            await session.execute(
                update(Campaign)
                .where(Campaign.id == req.campaign_id, Campaign.workspace_id == workspace_id)
                .where(Campaign.status.in_(STARTABLE))
                .values(status=CampaignStatus.INSUFFICIENT_BALANCE, updated_at=now)
            )
        raise
    await enqueue(pacer_job(req.campaign_id, workspace_id, generation=0))
    return started


async def _start(
    session: AsyncSession,
    workspace_id: str,
    req: StartRequest,
    *,
    credits_per_minute: float,
    workspace_default_cap: int,
    now: datetime,
) -> Started:
    campaign = await session.scalar(
        select(Campaign)
        .where(Campaign.id == req.campaign_id, Campaign.workspace_id == workspace_id)
        .with_for_update()
    )
    if campaign is None:
        raise NotFound("Campaign not found")
    if CampaignStatus(campaign.status) not in STARTABLE:
        raise InvalidRequest(f"Campaign is already {campaign.status}; it cannot be started again")
    found = await agents_repo.with_version(session, workspace_id, req.agent_id, None)
    if found is None or found[1] is None:
        raise NotFound("Agent not found")
    agent, version = found[0], found[1]
    numbers = await _numbers(session, workspace_id, req)
    settings = VersionSettings.model_validate(version.settings)
    config = merged_call_config(settings.call_config, {**campaign.call_config, **req.call_config})
    window = config.call_time
    start_at = req.start_at or campaign.start_at or now
    end_at = req.end_at or campaign.end_at
    if end_at is not None and end_at <= max(start_at, now):
        raise InvalidRequest("campaign_end_time must be after the start time and in the future")
    first_due = next_allowed(
        max(start_at, now),
        start=window.call_start_time,
        end=window.call_end_time,
        tz_name=window.timezone,
    )
    total = await session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(Contact.list_id == campaign.list_id, Contact.workspace_id == workspace_id)
    )
    if not total:
        raise InvalidRequest("The campaign has no valid contacts")
    each = credits.estimate(config.max_call_length, credits_per_minute=credits_per_minute)
    required = round(each * int(total), 4)
    if not await calls_repo.lock_credits(session, workspace_id, required):
        raise InsufficientCredits(f"Insufficient credits: the list needs {required} credits locked")
    config_json = config.model_dump(mode="json")
    number_list = [n.number for n, _ in numbers]
    offset, last_id = 0, 0
    while True:
        batch = (
            await session.execute(
                select(Contact.id, Contact.mobile_number, Contact.callee_name, Contact.variables)
                .where(
                    Contact.list_id == campaign.list_id,
                    Contact.workspace_id == workspace_id,
                    Contact.id > last_id,
                )
                .order_by(Contact.id)
                .limit(_BATCH)
            )
        ).all()
        if not batch:
            break
        rows = []
        for i, contact in enumerate(batch, start=offset):
            number, account = numbers[i % len(numbers)]  # rotate the caller numbers
            rows.append(
                {
                    "id": new_id(),
                    "workspace_id": workspace_id,
                    "agent_id": agent.id,
                    "agent_version_id": version.id,
                    "bulk_list_id": campaign.id,
                    "direction": "outbound",
                    "status": CallStatus.REGISTERED,
                    "sub_status": SubStatus.QUEUED,
                    "to_number": contact.mobile_number,
                    "from_number": number.number,
                    "from_numbers": number_list,
                    "telephony_account_id": account.id,
                    "callee_name": contact.callee_name or "",
                    "custom_args_values": {
                        **contact.variables,
                        "callee_name": contact.callee_name or "",
                        "mobile_number": contact.mobile_number,
                    },
                    "call_config": config_json,
                    "due_at": first_due,
                    "created_at": now,
                    "locked_credits": each,
                }
            )
        await session.execute(insert(Call), rows)
        offset += len(batch)
        last_id = batch[-1].id
    ws_cap = await session.scalar(
        select(Workspace.max_concurrent_calls).where(Workspace.id == workspace_id)
    )
    pct = req.concurrency_percentage or campaign.concurrency_percentage
    cap = req.max_concurrent_calls or campaign.max_concurrent_calls
    if cap is None and pct:
        cap = max(1, math.ceil((ws_cap or workspace_default_cap) * pct / 100))
    campaign.agent_id = agent.id
    campaign.status = CampaignStatus.SCHEDULED
    campaign.call_config = config_json
    campaign.start_at, campaign.end_at = start_at, end_at
    campaign.from_number_ids = [n.id for n, _ in numbers]
    campaign.number_pool_id = req.number_pool_id
    campaign.max_concurrent_calls, campaign.concurrency_percentage = cap, pct
    campaign.total_contacts, campaign.required_credits = int(total), required
    campaign.started_at = campaign.updated_at = now
    others = await session.scalar(
        select(func.count())
        .select_from(Call)
        .where(
            Call.workspace_id == workspace_id,
            Call.status == CallStatus.ONGOING,
        )
    )
    return Started(campaign.id, CampaignStatus.SCHEDULED, has_ongoing_calls=bool(others))


async def _numbers(session: AsyncSession, workspace_id: str, req: StartRequest) -> Sequence[Any]:
    if (req.number_pool_id is None) == (not req.from_numbers):
        raise InvalidRequest("Give exactly one of from_numbers and number_pool_id")
    if req.number_pool_id is not None:
        return await caller_numbers(session, workspace_id, number_pool_id=req.number_pool_id)
    ids = tuple(n for n in req.from_numbers if not n.strip().startswith("+"))
    e164 = tuple(n for n in req.from_numbers if n.strip().startswith("+"))
    found = list(await caller_numbers(session, workspace_id, number_ids=ids)) if ids else []
    if e164:
        found += await caller_numbers(session, workspace_id, numbers=e164)
    return found
