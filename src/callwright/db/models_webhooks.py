"""Webhook tables: events (the outbox), endpoints, deliveries and their attempts.

An event row commits in the transaction of the state change that caused it, together with
one delivery row per subscribed live endpoint; a relay enqueues the delivery jobs of rows it
finds un-enqueued, so a crash between commit and enqueue loses nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from callwright.db.models import ID, Base
from callwright.db.types import JSONType, UTCDateTime, utcnow


class WebhookEvent(Base):
    """One event instance; ``id`` is the payload's ``event_id`` and the ``webhook-id``."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_webhook_events_ws_created", "workspace_id", "created_at"),
        Index("ix_webhook_events_call", "call_id"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ID)
    agent_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    call_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookEndpoint(Base):
    """One (agent, callback URL) pair from the agent's active subscriptions, with its secret.

    ``headers``, ``method`` and ``event_types`` mirror the subscription as last synced.
    """

    __tablename__ = "webhook_endpoints"
    __table_args__ = (UniqueConstraint("agent_id", "url", name="uq_webhook_endpoints_agent_url"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ID, index=True)
    agent_id: Mapped[str] = mapped_column(ID)
    url: Mapped[str] = mapped_column(String(2048))
    method: Mapped[str] = mapped_column(String(8), default="POST")
    headers: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    event_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    auth_fetch_config: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    secret: Mapped[str] = mapped_column(String(128))
    secret_shown: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event to one endpoint (a replay is a new row). ``job_key`` names its job."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
        Index("ix_webhook_deliveries_unqueued", "enqueued_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ID)
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id"))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"))
    job_key: Mapped[str] = mapped_column(String(200), unique=True)
    # pending → delivering → delivered | failed | disabled | skipped
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery, for the delivery log."""

    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id"), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    response_snippet: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_category: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # done | retry | disable | give_up
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
