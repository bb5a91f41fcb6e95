"""Our webhook API underneath: endpoints, their delivery log, replays and test sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Agent, AgentVersion
from callwright.db.models_webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.errors import Conflict, NotFound
from callwright.domain.ids import new_id
from callwright.services.webhook_delivery import (
    WebhookDeliverer,
    delivery_job_key,
)
from callwright.services.webhook_relay import sync_endpoints
from callwright.webhooks import (
    RetrySchedule,
)


@dataclass(frozen=True, slots=True)
class EndpointView:
    endpoint: WebhookEndpoint
    secret: str | None  # only the first time it is shown


@dataclass(frozen=True, slots=True)
class DeliveryView:
    delivery: WebhookDelivery
    event_type: str
    attempts: list[WebhookAttempt]


async def _endpoint(session: AsyncSession, workspace_id: str, endpoint_id: str) -> WebhookEndpoint:
    endpoint = await session.scalar(
        select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.workspace_id == workspace_id
        )
    )
    if endpoint is None:
        raise NotFound("Webhook endpoint not found")
    return endpoint


async def list_endpoints(
    uow: SessionFactory, workspace_id: str, agent_id: str
) -> list[EndpointView]:
    """The agent's endpoints, synced with its subscriptions. A secret is returned once: in the
    first listing after its endpoint was created."""
    async with uow.begin() as session:
        agent = await session.scalar(
            select(Agent.id).where(Agent.id == agent_id, Agent.workspace_id == workspace_id)
        )
        if agent is None:
            raise NotFound("Agent not found")
        views = []
        for e in await sync_endpoints(session, workspace_id, agent_id, now=datetime.now(UTC)):
            if e.deleted_at is not None:
                continue
            views.append(EndpointView(e, None if e.secret_shown else e.secret))
            e.secret_shown = True
    return views


async def get_endpoint(uow: SessionFactory, workspace_id: str, endpoint_id: str) -> WebhookEndpoint:
    async with uow() as session:
        return await _endpoint(session, workspace_id, endpoint_id)


async def enable_endpoint(
    uow: SessionFactory, workspace_id: str, endpoint_id: str
) -> WebhookEndpoint:
    async with uow.begin() as session:
        e = await _endpoint(session, workspace_id, endpoint_id)
        e.disabled, e.disabled_reason, e.disabled_at, e.failing_since = False, None, None, None
    return e


async def delete_endpoint(uow: SessionFactory, workspace_id: str, endpoint_id: str) -> None:
    """Unsubscribe the URL from the agent's active version and retire the endpoint."""
    async with uow.begin() as session:
        e = await _endpoint(session, workspace_id, endpoint_id)
        agent = await session.get(Agent, e.agent_id)
        if agent is not None and agent.active_version_id:
            version = await session.get(AgentVersion, agent.active_version_id)
            if version is not None:
                settings = dict(version.settings)
                subs = settings.get("event_subscriptions") or []
                settings["event_subscriptions"] = [
                    s for s in subs if s.get("callback_url") != e.url
                ]
                version.settings = settings
        e.deleted_at, e.event_types = datetime.now(UTC), []


async def delivery_log(
    uow: SessionFactory, workspace_id: str, endpoint_id: str, *, limit: int, offset: int
) -> list[DeliveryView]:
    async with uow() as session:
        await _endpoint(session, workspace_id, endpoint_id)
        rows = (
            await session.execute(
                select(WebhookDelivery, WebhookEvent.event_type)
                .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                .where(WebhookDelivery.endpoint_id == endpoint_id)
                .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        ids = [d.id for d, _ in rows]
        attempts: dict[str, list[WebhookAttempt]] = {i: [] for i in ids}
        if ids:
            for a in await session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_(ids))
                .order_by(WebhookAttempt.attempt)
            ):
                attempts[a.delivery_id].append(a)
    return [DeliveryView(d, t, attempts[d.id]) for d, t in rows]


def _replay_row(workspace_id: str, event_id: str, endpoint_id: str) -> WebhookDelivery:
    delivery_id = new_id()
    return WebhookDelivery(
        id=delivery_id,
        workspace_id=workspace_id,
        event_id=event_id,
        endpoint_id=endpoint_id,
        job_key=f"{delivery_job_key(event_id, endpoint_id)}:replay-{delivery_id}",
        status="pending",
        created_at=datetime.now(UTC),
    )


async def replay_delivery(uow: SessionFactory, workspace_id: str, delivery_id: str) -> str:
    """Queue a new delivery of the same event (same ``webhook-id``); returns its id."""
    async with uow.begin() as session:
        old = await session.scalar(
            select(WebhookDelivery).where(
                WebhookDelivery.id == delivery_id, WebhookDelivery.workspace_id == workspace_id
            )
        )
        if old is None:
            raise NotFound("Delivery not found")
        endpoint = await _endpoint(session, workspace_id, old.endpoint_id)
        if endpoint.disabled or endpoint.deleted_at is not None:
            raise Conflict("The endpoint is disabled; enable it first")
        row = _replay_row(workspace_id, old.event_id, old.endpoint_id)
        session.add(row)
    return row.id


async def replay_since(
    uow: SessionFactory, workspace_id: str, endpoint_id: str, since: datetime, *, only_failed: bool
) -> int:
    """Queue again every event for this endpoint since ``since`` (by default only those never
    delivered to it); returns how many."""
    async with uow.begin() as session:
        endpoint = await _endpoint(session, workspace_id, endpoint_id)
        if endpoint.disabled or endpoint.deleted_at is not None:
            raise Conflict("The endpoint is disabled; enable it first")
        query = (
            select(WebhookEvent.id)
            .join(WebhookDelivery, WebhookDelivery.event_id == WebhookEvent.id)
            .where(
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookEvent.created_at >= since,
                WebhookEvent.workspace_id == workspace_id,
                WebhookEvent.event_type != "endpoint_test",  # probes are not replayed
            )
            .group_by(WebhookEvent.id)
            .limit(10_000)
        )
        events = set((await session.scalars(query)).all())
        if only_failed:
            delivered = select(WebhookDelivery.event_id).where(
                WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.status == "delivered"
            )
            events -= set((await session.scalars(delivered)).all())
        for event_id in sorted(events):
            session.add(_replay_row(workspace_id, event_id, endpoint_id))
    return len(events)


async def send_test(
    deliverer: WebhookDeliverer, workspace_id: str, endpoint_id: str
) -> DeliveryView:
    """Send one signed ``endpoint_test`` event now (one attempt, no retries) and log it."""
    now = deliverer.clock.now()
    event_id, delivery_id = new_id(), new_id()
    async with deliverer.uow.begin() as session:
        endpoint = await _endpoint(session, workspace_id, endpoint_id)
        payload = {
            "event_type": "endpoint_test",
            "event_id": event_id,
            "version": "1.0",
            "timestamp": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "agent_id": endpoint.agent_id,
            "workspace_id": workspace_id,
            "message": "A test event from callwright.",
        }
        event = WebhookEvent(
            id=event_id,
            workspace_id=workspace_id,
            agent_id=endpoint.agent_id,
            event_type="endpoint_test",
            payload=payload,
            created_at=now,
        )
        session.add(event)
        await session.flush()
        session.add(
            WebhookDelivery(
                id=delivery_id,
                workspace_id=workspace_id,
                event_id=event_id,
                endpoint_id=endpoint_id,
                job_key=f"test:{delivery_id}",
                created_at=now,
                enqueued_at=now,  # sent right here, never by the relay
            )
        )
    once = WebhookDeliverer(
        uow=deliverer.uow,
        client=deliverer.client,
        clock=deliverer.clock,
        schedule=RetrySchedule(delays_s=()),  # one attempt
        disable_after=timedelta.max,
        rng=deliverer.rng,
    )
    await once._send(delivery_id, endpoint, event, 1, probe=True)
    views = [
        v
        for v in await delivery_log(deliverer.uow, workspace_id, endpoint_id, limit=20, offset=0)
        if v.delivery.id == delivery_id
    ]
    return views[0]
