"""Shapes of our webhook management API (not part of Ringg's API)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from callwright.services.webhook_admin import DeliveryView, EndpointView


class Endpoint(BaseModel):
    id: str
    agent_id: str
    url: str
    method: str
    event_types: list[str]
    header_names: list[str] = Field(description="custom header names (values are not shown)")
    secret: str | None = Field(
        description="the Standard Webhooks signing secret: shown once, then null"
    )
    disabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    created_at: datetime

    @staticmethod
    def of(view: EndpointView) -> Endpoint:
        e = view.endpoint
        return Endpoint(
            id=e.id,
            agent_id=e.agent_id,
            url=e.url,
            method=e.method,
            event_types=list(e.event_types),
            header_names=sorted(e.headers),
            secret=view.secret,
            disabled=e.disabled,
            disabled_reason=e.disabled_reason,
            disabled_at=e.disabled_at,
            failing_since=e.failing_since,
            created_at=e.created_at,
        )


class EndpointList(BaseModel):
    endpoints: list[Endpoint]


class Attempt(BaseModel):
    attempt: int
    started_at: datetime
    status_code: int | None
    latency_ms: float
    response_snippet: str
    error: str | None
    error_category: str | None
    outcome: str = Field(description="done | retry | disable | give_up")
    next_attempt_at: datetime | None


class Delivery(BaseModel):
    id: str
    event_id: str = Field(description="also the webhook-id header: the same on every retry")
    event_type: str
    endpoint_id: str
    status: str = Field(description="pending | delivering | delivered | failed | skipped")
    attempt_count: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None
    attempts: list[Attempt]

    @staticmethod
    def of(view: DeliveryView) -> Delivery:
        d = view.delivery
        return Delivery(
            id=d.id,
            event_id=d.event_id,
            event_type=view.event_type,
            endpoint_id=d.endpoint_id,
            status=d.status,
            attempt_count=d.attempts,
            last_status_code=d.last_status_code,
            last_error=d.last_error,
            next_attempt_at=d.next_attempt_at,
            created_at=d.created_at,
            finished_at=d.finished_at,
            attempts=[
                Attempt(
                    attempt=a.attempt,
                    started_at=a.started_at,
                    status_code=a.status_code,
                    latency_ms=a.latency_ms,
                    response_snippet=a.response_snippet,
                    error=a.error,
                    error_category=a.error_category,
                    outcome=a.outcome,
                    next_attempt_at=a.next_attempt_at,
                )
                for a in view.attempts
            ],
        )


class DeliveryList(BaseModel):
    deliveries: list[Delivery]
    limit: int
    offset: int


class Replayed(BaseModel):
    queued: int
    delivery_ids: list[str] = Field(default_factory=list)
