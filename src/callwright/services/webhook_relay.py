"""Which endpoints an agent's subscriptions name, and the relay that hands committed
deliveries to the job queue."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Agent, AgentVersion
from callwright.db.models_webhooks import (
    WebhookDelivery,
    WebhookEndpoint,
)
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.assistant import VersionSettings
from callwright.domain.ids import new_id
from callwright.jobs.port import JobSpec
from callwright.services.webhook_delivery import (
    WEBHOOK_JOB,
    WEBHOOK_QUEUE,
    Enqueue,
)
from callwright.webhooks.signing import generate_secret

# ---------------------------------------------------------------- endpoints


def _merged_subscriptions(settings: VersionSettings) -> dict[str, dict[str, Any]]:
    by_url: dict[str, dict[str, Any]] = {}
    for sub in settings.event_subscriptions:
        entry = by_url.setdefault(sub.callback_url, {"event_types": []})
        entry["event_types"] += [t for t in sub.event_type if t not in entry["event_types"]]
        entry["headers"], entry["method"] = dict(sub.headers), sub.method_type
        entry["auth_fetch_config"] = sub.auth_fetch_config
    return by_url


async def sync_endpoints(
    session: AsyncSession, workspace_id: str, agent_id: str, *, now: datetime
) -> list[WebhookEndpoint]:
    """Bring the agent's endpoint rows in line with its active subscriptions; return them all
    (unsubscribed ones keep their row, with no event types, for the delivery log)."""
    agent = await session.scalar(
        select(Agent).where(Agent.id == agent_id, Agent.workspace_id == workspace_id)
    )
    version = (
        await session.get(AgentVersion, agent.active_version_id)
        if agent is not None and agent.active_version_id
        else None
    )
    subs = (
        _merged_subscriptions(VersionSettings.model_validate(version.settings))
        if version is not None
        else {}
    )
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.workspace_id == workspace_id, WebhookEndpoint.agent_id == agent_id
    )
    rows = {e.url: e for e in (await session.scalars(query)).all()}
    missing = [url for url in subs if url not in rows]
    if missing:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        values = [
            {
                "id": new_id(),
                "workspace_id": workspace_id,
                "agent_id": agent_id,
                "url": url,
                "method": subs[url]["method"],
                "headers": subs[url]["headers"],
                "event_types": subs[url]["event_types"],
                "auth_fetch_config": subs[url]["auth_fetch_config"],
                "secret": generate_secret(),
                "secret_shown": False,
                "disabled": False,
                "created_at": now,
            }
            for url in missing
        ]
        # A concurrent transaction may create the same endpoint: never fail the caller's
        # state change over it.
        await session.execute(insert(WebhookEndpoint).values(values).on_conflict_do_nothing())
        rows = {e.url: e for e in (await session.scalars(query)).all()}
    for url, endpoint in rows.items():
        sub = subs.get(url)
        wanted: dict[str, Any] = (
            {k: sub[k] for k in ("event_types", "headers", "method", "auth_fetch_config")}
            if sub
            else {"event_types": []}
        )
        if sub and endpoint.deleted_at is not None:
            wanted["deleted_at"] = None  # subscribed again after a DELETE
        for key, value in wanted.items():
            if getattr(endpoint, key) != value:
                setattr(endpoint, key, value)
    return sorted(rows.values(), key=lambda e: (e.created_at, e.url))


# ---------------------------------------------------------------- the relay


@dataclass
class WebhookRelay:
    """Enqueues the delivery job of every delivery row not yet enqueued."""

    uow: SessionFactory
    enqueue: Enqueue
    interval_s: float = 0.25
    batch: int = 500
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        """Until cancelled: relay, then wait for a wake-up or the poll interval."""
        while True:
            self._wakeup.clear()
            while await self.relay_once() == self.batch:
                pass
            # asyncio.timeout, not wait_for: 3.11's wait_for runs the wait as a second task,
            # which a cancel could leave stranded at shutdown (seen in the suite).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval_s):
                    await self._wakeup.wait()

    async def relay_once(self) -> int:
        async with self.uow() as session:
            rows = (
                await session.execute(
                    select(WebhookDelivery.id, WebhookDelivery.job_key, WebhookDelivery.endpoint_id)
                    .where(WebhookDelivery.enqueued_at.is_(None))
                    .order_by(WebhookDelivery.created_at)
                    .limit(self.batch)
                )
            ).all()
        if not rows:
            return 0
        # Enqueue first, then mark: a crash in between re-enqueues, which keys make a no-op.
        for row in rows:
            await self.enqueue(delivery_job(row.job_key, row.id, row.endpoint_id))
        async with self.uow.begin() as session:
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id.in_([r.id for r in rows]))
                .values(enqueued_at=datetime.now(UTC)),
                execution_options={"synchronize_session": False},
            )
        return len(rows)


def delivery_job(job_key: str, delivery_id: str, endpoint_id: str) -> JobSpec:
    return JobSpec(
        kind=WEBHOOK_JOB,
        key=job_key,
        payload={"delivery_id": delivery_id},
        queue=WEBHOOK_QUEUE,
        partition=endpoint_id,
    )
