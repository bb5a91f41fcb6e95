"""Ringg's webhook events: payloads (ringg-api.md §2.8.4-2.8.5) and their recording.

Contract: every ``record_*`` function writes the event row, and one delivery row per live
endpoint subscribed to its type, into the caller's open session, so the event commits
if and only if the state change beside it commits. Nothing is sent here: the relay in
:mod:`callwright.services.webhook_delivery` enqueues the delivery jobs after commit
(``CallEvents`` wakes it the moment the transaction commits; otherwise it polls).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Agent, AgentVersion, Call
from callwright.db.models_webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent
from callwright.domain.ids import new_id
from callwright.services.webhook_delivery import delivery_job_key
from callwright.services.webhook_relay import sync_endpoints
from callwright.storage.recordings import RecordingStore

SCHEMA_VERSION = "1.0"


def iso_z(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix (Ringg's timestamp form)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def signed_recording_url(recordings: RecordingStore, base_url: str, call: Call) -> str | None:
    """The signed, expiring link to the call's recording, or None without one."""
    if not call.recording_path:
        return None
    query = recordings.signed_query(call.id)
    return (
        f"{base_url.rstrip('/')}/ca/api/v0/recordings/{call.id}.wav"
        f"?expires={query['expires']}&signature={query['signature']}"
    )


_ENDPOINTS = "events.endpoints"


async def _endpoints(
    session: AsyncSession, workspace_id: str, agent_id: str, *, now: datetime
) -> list[WebhookEndpoint]:
    """The agent's endpoints, synced once per session: the calls of one group commit (often
    dozens for one agent) share a single look-up instead of two queries and a settings parse
    each."""
    memo: dict[tuple[str, str], list[WebhookEndpoint]] = session.info.setdefault(_ENDPOINTS, {})
    key = (workspace_id, agent_id)
    if key not in memo:
        memo[key] = await sync_endpoints(session, workspace_id, agent_id, now=now)
    return memo[key]


async def record(
    session: AsyncSession,
    *,
    workspace_id: str,
    agent_id: str | None,
    call_id: str | None,
    event_type: str,
    payload: dict[str, Any],
    event_id: str,
    now: datetime,
) -> WebhookEvent:
    """Add the event and its deliveries (one per live subscribed endpoint) to ``session``."""
    row = WebhookEvent(
        id=event_id,
        workspace_id=workspace_id,
        agent_id=agent_id,
        call_id=call_id,
        event_type=event_type,
        payload=payload,
        created_at=now,
    )
    session.add(row)
    if agent_id is None:
        return row
    subscribed = [
        e
        for e in await _endpoints(session, workspace_id, agent_id, now=now)
        if not e.disabled and e.deleted_at is None and event_type in e.event_types
    ]
    if subscribed:
        await session.flush()  # the event row first: its deliveries reference it
    for endpoint in subscribed:
        session.add(
            WebhookDelivery(
                id=new_id(),
                workspace_id=workspace_id,
                event_id=event_id,
                endpoint_id=endpoint.id,
                job_key=delivery_job_key(event_id, endpoint.id),
                status="pending",
                created_at=now,
            )
        )
    return row


async def _context(session: AsyncSession, call: Call) -> tuple[Agent | None, AgentVersion | None]:
    agent = await session.get(Agent, call.agent_id)
    version = await session.get(AgentVersion, call.agent_version_id)
    return agent, version


def _common(
    call: Call, agent: Agent | None, version: AgentVersion | None, event_type: str, event_id: str
) -> dict[str, Any]:
    latencies = [
        float(t["first_audio_out_ms"])
        for t in (call.turn_latencies or [])
        if t.get("first_audio_out_ms") is not None
    ]
    return {
        "event_type": event_type,
        "event_id": event_id,
        "version": SCHEMA_VERSION,
        "call_id": call.id,
        "agent_id": call.agent_id,
        "workspace_id": call.workspace_id,
        "call_sid": call.provider_call_id,
        "status": str(call.status),
        "sub_status": str(call.sub_status),
        "call_type": call.direction or "outbound",
        "to_number": call.to_number,
        "from_number": call.from_number,
        "custom_args_values": dict(call.custom_args_values or {}),
        "bulk_list_id": call.bulk_list_id,
        "called_on": iso_z(call.initiated_at),
        "created_at": iso_z(call.created_at),
        "agent_name": agent.display_name if agent else None,
        "version_id": call.agent_version_id,
        "version_slug": version.slug if version else None,
        "version_description": version.description if version else None,
        "call_cost": call.call_cost,
        "overall_latency_seconds": (
            round(statistics.median(latencies) / 1000.0, 3) if latencies else None
        ),
        "first_utterance_seconds": None,
        "tool_call_logs": [],
    }


def _call_fields(call: Call, recording_url: str | None) -> dict[str, Any]:
    transcript = list(call.transcript or [])
    return {
        "call_duration": call.call_duration if call.answered_at is not None else None,
        "agent_message_count": sum(1 for t in transcript if "bot" in t),
        "user_message_count": sum(1 for t in transcript if "user" in t),
        "transcript": transcript,
        "retry_count": call.retry_count or 0,
        "attempts": [
            {"status": a.get("status"), "called_on_time": a.get("called_on_time")}
            for a in (call.attempts or [])
        ],
        "recording_url": recording_url,
    }


def _analysis_data(call: Call) -> dict[str, Any]:
    data = {k: v for k, v in (call.platform_analysis or {}).items() if k != "raw_model_output"}
    if data:
        data.setdefault("status", "analyzed")
    return data


async def _emit(
    session: AsyncSession, call: Call, event_type: str, build: Callable[[dict[str, Any]], None]
) -> None:
    agent, version = await _context(session, call)
    event_id, now = new_id(), datetime.now(UTC)
    payload = _common(call, agent, version, event_type, event_id)
    payload["timestamp"] = iso_z(now)
    build(payload)
    await record(
        session,
        workspace_id=call.workspace_id,
        agent_id=call.agent_id,
        call_id=call.id,
        event_type=event_type,
        payload=payload,
        event_id=event_id,
        now=now,
    )


async def record_call_started(session: AsyncSession, call: Call) -> None:
    """``call_started`` for a call just registered (status registered / QUEUED)."""

    def build(p: dict[str, Any]) -> None:
        p.update(call_sid=None, called_on=None, created_at=None, call_cost=None)
        p.update(overall_latency_seconds=None, first_utterance_seconds=None)

    await _emit(session, call, "call_started", build)


async def record_call_completed(session: AsyncSession, call: Call) -> None:
    """``call_completed`` for an attempt's outcome (interim ``retry`` or terminal), e.g. a
    call cancelled before dialling. Picked up by the relay's next poll."""
    await _emit(session, call, "call_completed", lambda p: p.update(_call_fields(call, None)))


@dataclass
class CallEvents:
    """Records the call-lifecycle events that need the recording link, and wakes the relay
    once the recording transaction commits."""

    recordings: RecordingStore
    base_url: str
    wake: Callable[[], None] = lambda: None

    def _wake_after_commit(self, session: AsyncSession) -> None:
        sa_event.listen(session.sync_session, "after_commit", lambda _s: self.wake(), once=True)

    async def call_completed(self, session: AsyncSession, call: Call) -> None:
        """``call_completed`` for an attempt's outcome (interim ``retry`` or terminal)."""
        await record_call_completed(session, call)
        self._wake_after_commit(session)

    async def recording_completed(self, session: AsyncSession, call: Call) -> None:
        """``recording_completed`` when the call left a recording; a no-op otherwise."""
        url = signed_recording_url(self.recordings, self.base_url, call)
        if url is None:
            return

        def build(p: dict[str, Any]) -> None:
            for key in ("status", "agent_id", "workspace_id", "version_slug"):
                p.pop(key)
            p.pop("version_description")
            p.update(recording_url=url, recording_duration=call.recording_duration)

        await _emit(session, call, "recording_completed", build)
        self._wake_after_commit(session)

    async def processing_finished(self, session: AsyncSession, call: Call) -> None:
        """The analysis events and ``all_processing_completed``, once analysis has ended
        (success, failure, or never run because the call did not connect)."""
        url = signed_recording_url(self.recordings, self.base_url, call)
        base = _call_fields(call, url)
        platform = _analysis_data(call)
        await _emit(
            session,
            call,
            "platform_analysis_completed",
            lambda p: p.update(base, entity_type="call", analysis_data=platform),
        )
        if call.client_analysis_status in ("success", "failed"):
            client = dict(call.client_analysis or {})
            await _emit(
                session,
                call,
                "client_analysis_completed",
                lambda p: p.update(base, entity_type="call", analysis_data=client),
            )

        def build_all(p: dict[str, Any]) -> None:
            p.update(base)
            p.update(
                platform_analysis=platform,
                platform_analysis_status=call.platform_analysis_status,
                client_analysis=call.client_analysis,
                client_analysis_status=call.client_analysis_status,
            )

        await _emit(session, call, "all_processing_completed", build_all)
        self._wake_after_commit(session)
