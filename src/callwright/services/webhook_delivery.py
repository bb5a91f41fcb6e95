"""Webhook delivery: endpoints derived from subscriptions, the relay, the delivery job.

- Endpoints: one per (agent, callback URL) in the agent's *active* version's
  ``event_subscriptions``; each gets a Standard Webhooks secret once, kept for its life.
- Relay: a task that turns un-enqueued delivery rows (written with their event, see
  :mod:`callwright.services.events`) into durable jobs, woken after a commit and polling
  as a backstop (rows written by other processes, crashes between commit and enqueue).
- Job ``webhook`` (key ``wh:{event_id}:{endpoint_id}``, queue ``webhooks`` partitioned by
  endpoint, so a slow endpoint holds only its own slots): attempt, record, sleep durably
  until the retry time, repeat. 410 disables the endpoint, and so do 5 days of continuous
  failure, which also records an ``endpoint_disabled`` notice event.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Protocol
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models_webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.ids import new_id
from callwright.jobs.port import JobContext, JobSpec
from callwright.net.errors import NetError
from callwright.net.safe_client import SafeHTTPClient
from callwright.webhooks import (
    DeliveryAttempt,
    Disable,
    Done,
    GiveUp,
    InvalidHeaderError,
    Outcome,
    RetryAt,
    RetrySchedule,
    decide,
    deliver,
    validate_custom_headers,
)

WEBHOOK_JOB = "webhook"
WEBHOOK_QUEUE = "webhooks"
NOTICE_ENDPOINT_DISABLED = "endpoint_disabled"
DISABLE_AFTER = timedelta(days=5)
FINISHED = ("delivered", "failed", "disabled", "skipped")


class AuthFetchError(Exception):
    """The subscription's token could not be fetched (retried like a failed attempt)."""


Enqueue = Callable[[JobSpec], Awaitable[None]]


def delivery_job_key(event_id: str, endpoint_id: str) -> str:
    return f"wh:{event_id}:{endpoint_id}"


def body_of(payload: Mapping[str, Any]) -> bytes:
    """The exact bytes sent and signed for an event payload."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Clock(Protocol):
    """Time for the delivery job. ``now`` stamps attempts and computes retry times;
    ``wall`` maps such a time to the real instant to sleep until (tests compress time)."""

    def now(self) -> datetime: ...

    def wall(self, at: datetime) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def wall(self, at: datetime) -> datetime:
        return at


# ---------------------------------------------------------------- the delivery job


@dataclass
class WebhookDeliverer:
    """The ``webhook`` job handler, and single test sends."""

    uow: SessionFactory
    client: SafeHTTPClient
    clock: Clock = field(default_factory=SystemClock)
    schedule: RetrySchedule = field(default_factory=RetrySchedule)
    disable_after: timedelta = DISABLE_AFTER
    rng: random.Random = field(default_factory=random.Random)
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)

    async def run(self, ctx: JobContext, payload: Mapping[str, Any]) -> None:
        delivery_id = str(payload["delivery_id"])
        attempt = 1
        while True:
            next_at = await ctx.step(
                f"attempt-{attempt}", partial(self.attempt, delivery_id, attempt)
            )
            if next_at is None:
                return
            await ctx.sleep_until(self.clock.wall(datetime.fromisoformat(next_at)))
            attempt += 1

    async def attempt(self, delivery_id: str, attempt: int) -> str | None:
        """Make attempt number ``attempt``; return the ISO time of the next one, or None."""
        async with self.uow() as session:
            delivery = await session.get(WebhookDelivery, delivery_id)
            if delivery is None or delivery.status in FINISHED:
                return None
            event = await session.get(WebhookEvent, delivery.event_id)
            endpoint = await session.get(WebhookEndpoint, delivery.endpoint_id)
        assert event is not None and endpoint is not None
        if endpoint.disabled or endpoint.deleted_at is not None:
            await self._finish(delivery_id, "skipped", "endpoint disabled or deleted")
            return None
        return await self._send(delivery_id, endpoint, event, attempt)

    async def _send(
        self,
        delivery_id: str,
        endpoint: WebhookEndpoint,
        event: WebhookEvent,
        attempt: int,
        *,
        probe: bool = False,
    ) -> str | None:
        headers = dict(endpoint.headers)
        try:
            auth = await self._auth_header(endpoint)
        except AuthFetchError as exc:
            result = self._failed_before_sending(event.id, attempt, str(exc))
        else:
            if auth is not None:
                headers[auth[0]] = auth[1]
            result = await self._deliver(endpoint, event, attempt, headers)
        return await self._record(delivery_id, endpoint, result, probe=probe)

    async def _deliver(
        self, endpoint: WebhookEndpoint, event: WebhookEvent, attempt: int, headers: dict[str, str]
    ) -> DeliveryAttempt:
        return await deliver(
            endpoint.url,
            headers,
            body_of(event.payload),
            endpoint.secret,
            event.id,
            client=self.client,
            attempt=attempt,
            method=endpoint.method,
            schedule=self.schedule,
            clock=self.clock.now,
            rng=self.rng,
        )

    def _failed_before_sending(self, msg_id: str, attempt: int, error: str) -> DeliveryAttempt:
        now = self.clock.now()
        action = decide(
            Outcome.RETRY,
            attempt=attempt,
            now=now,
            schedule=self.schedule,
            rng=self.rng,
            reason=error,
        )
        return DeliveryAttempt(
            msg_id=msg_id,
            attempt=attempt,
            started_at=now,
            status_code=None,
            latency_ms=0.0,
            response_snippet="",
            error=error,
            error_category="auth_fetch",
            location=None,
            peer=None,
            next_action=action,
        )

    async def _auth_header(self, endpoint: WebhookEndpoint) -> tuple[str, str] | None:
        """The header from the subscription's ``auth_fetch_config``: fetch a token (through
        the same SSRF-safe client), cache it for ``ttl_seconds``, fill the template."""
        cfg = endpoint.auth_fetch_config
        if not cfg or not cfg.get("enabled"):
            return None
        cached = self._tokens.get(endpoint.id)
        now_s = time.monotonic()
        if cached is not None and cached[1] > now_s:
            token = cached[0]
        else:
            token = await self._fetch_token(cfg)
            ttl_s = min(max(float(cfg.get("ttl_seconds") or 3600), 30.0), 86400.0)
            self._tokens[endpoint.id] = (token, now_s + ttl_s)
        template = str(cfg.get("header_value_template") or "Bearer {{token}}")
        return str(cfg.get("header_name") or "Authorization"), template.replace("{{token}}", token)

    async def _fetch_token(self, cfg: Mapping[str, Any]) -> str:
        url = str(cfg.get("url") or "")
        if cfg.get("query_params"):
            url += ("&" if "?" in url else "?") + urlencode(cfg["query_params"])
        method = str(cfg.get("method") or "POST").upper()
        headers = {"Content-Type": "application/json", **(cfg.get("headers") or {})}
        body = b"" if method in ("GET", "HEAD") else json.dumps(cfg.get("body") or {}).encode()
        try:
            response = await self.client.request(
                method,
                url,
                headers=list(validate_custom_headers(headers).items()),
                content=body,
                max_response_bytes=64 * 1024,
            )
        except (NetError, InvalidHeaderError, ValueError) as exc:
            raise AuthFetchError(f"token fetch failed: {exc}") from None
        if not 200 <= response.status_code <= 299:
            raise AuthFetchError(f"token endpoint answered HTTP {response.status_code}")
        try:
            data: Any = json.loads(response.body)
            for part in str(cfg.get("token_path") or "token").split("."):
                data = data[int(part)] if isinstance(data, list) else data[part]
        except (ValueError, KeyError, IndexError, TypeError):
            raise AuthFetchError("token not found at token_path in the response") from None
        if not isinstance(data, str | int) or not str(data):
            raise AuthFetchError("token at token_path is not a string")
        return str(data)

    async def _record(
        self, delivery_id: str, endpoint: WebhookEndpoint, result: DeliveryAttempt, *, probe: bool
    ) -> str | None:
        attempt = result.attempt
        action = result.next_action
        next_at = action.at if isinstance(action, RetryAt) else None
        outcome = {Done: "done", RetryAt: "retry", Disable: "disable", GiveUp: "give_up"}[
            type(action)
        ]
        now = self.clock.now()
        async with self.uow.begin() as session:
            await session.merge(
                WebhookAttempt(
                    delivery_id=delivery_id,
                    attempt=attempt,
                    started_at=result.started_at,
                    status_code=result.status_code,
                    latency_ms=round(result.latency_ms, 2),
                    response_snippet=result.response_snippet[:1024],
                    error=result.error,
                    error_category=result.error_category,
                    outcome=outcome,
                    next_attempt_at=next_at,
                )
            )
            status = {"done": "delivered", "retry": "delivering"}.get(outcome, "failed")
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(
                    status=status,
                    attempts=attempt,
                    last_status_code=result.status_code,
                    last_error=result.error,
                    next_attempt_at=next_at,
                    finished_at=None if next_at else now,
                )
            )
            if probe:
                pass  # a test send says nothing about the endpoint's health
            elif isinstance(action, Done):
                await session.execute(
                    update(WebhookEndpoint)
                    .where(
                        WebhookEndpoint.id == endpoint.id,
                        WebhookEndpoint.failing_since.is_not(None),
                    )
                    .values(failing_since=None)
                )
            elif isinstance(action, Disable):
                await disable_endpoint(session, endpoint, reason=action.reason, now=now)
            else:
                await self._note_failure(session, endpoint, now=now)
        return next_at.isoformat() if next_at else None

    async def _note_failure(
        self, session: AsyncSession, endpoint: WebhookEndpoint, *, now: datetime
    ) -> None:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint.id, WebhookEndpoint.failing_since.is_(None))
            .values(failing_since=now)
        )
        since = await session.scalar(
            select(WebhookEndpoint.failing_since).where(WebhookEndpoint.id == endpoint.id)
        )
        if since is not None and now - since >= self.disable_after:
            days = self.disable_after.total_seconds() / 86400
            await disable_endpoint(
                session, endpoint, reason=f"failing continuously for {days:g} days", now=now
            )

    async def _finish(self, delivery_id: str, status: str, error: str) -> None:
        async with self.uow.begin() as session:
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(status=status, last_error=error, finished_at=self.clock.now())
            )


async def disable_endpoint(
    session: AsyncSession, endpoint: WebhookEndpoint, *, reason: str, now: datetime
) -> None:
    """Disable ``endpoint`` (once) and record the ``endpoint_disabled`` notice event."""
    result = await session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id, WebhookEndpoint.disabled.is_(False))
        .values(disabled=True, disabled_reason=reason, disabled_at=now)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return
    event_id = new_id()
    session.add(
        WebhookEvent(
            id=event_id,
            workspace_id=endpoint.workspace_id,
            agent_id=endpoint.agent_id,
            call_id=None,
            event_type=NOTICE_ENDPOINT_DISABLED,
            payload={
                "event_type": NOTICE_ENDPOINT_DISABLED,
                "event_id": event_id,
                "version": "1.0",
                "timestamp": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "endpoint_id": endpoint.id,
                "agent_id": endpoint.agent_id,
                "workspace_id": endpoint.workspace_id,
                "callback_url": endpoint.url,
                "reason": reason,
            },
            created_at=now,
        )
    )
