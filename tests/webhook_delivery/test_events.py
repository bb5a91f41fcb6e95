"""Ringg's events from real calls: payloads, signatures, and event/state atomicity."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from callwright.bootstrap import Container
from callwright.db.models import Call
from callwright.db.models_webhooks import WebhookDelivery, WebhookEvent
from callwright.domain.assistant import VersionSettings
from callwright.domain.ids import new_id
from callwright.providers.base import ErrorCategory, LanguageModel, ProviderError
from callwright.services import events
from tests.calls.conftest import ANALYSIS, FakeEngines, call_body
from tests.webhook_delivery.chaos import ChaosReceiver
from tests.webhook_delivery.conftest import (
    MakeApp,
    agent_with_hooks,
    endpoints,
    eventually,
    new_tenant,
)

COMMON = {
    "event_type", "event_id", "version", "timestamp", "call_id", "agent_id", "workspace_id",
    "call_sid", "status", "sub_status", "call_type", "to_number", "from_number",
    "custom_args_values", "bulk_list_id", "called_on", "created_at", "agent_name", "version_id",
    "version_slug", "version_description", "call_cost", "overall_latency_seconds",
    "first_utterance_seconds", "tool_call_logs",
}  # fmt: skip
COMPLETED = COMMON | {
    "call_duration", "agent_message_count", "user_message_count", "transcript", "retry_count",
    "attempts", "recording_url",
}  # fmt: skip


def payloads(receiver: ChaosReceiver, secret: str) -> list[dict[str, Any]]:
    """Every delivered body, after checking its signature with the standardwebhooks package."""
    out = []
    for req in receiver.delivered():
        Webhook(secret).verify(req.body, req.headers)
        body: dict[str, Any] = json.loads(req.body)
        assert req.headers["webhook-id"] == body["event_id"]
        out.append(body)
    return out


async def test_answered_call_emits_the_six_events(make_app: MakeApp) -> None:
    receiver = await ChaosReceiver().up()
    try:
        async with make_app() as app:
            t = await new_tenant(app)
            agent_id = await agent_with_hooks(
                t, [receiver.url()], headers={"Authorization": "Bearer receiver-token"}
            )
            (ep,) = await endpoints(t, agent_id)
            secret = ep["secret"]
            assert secret.startswith("whsec_")
            assert (await endpoints(t, agent_id))[0]["secret"] is None  # shown once
            number = (await t.client.get("/workspace/numbers")).json()["workspace_numbers"][0]
            r = await t.client.post(
                "/calling/outbound/individual",
                json=call_body(agent_id, from_number_id=number["id"]),
            )
            call_id = r.json()["data"]["call_id"]

            expected = {
                "call_started", "call_completed", "recording_completed",
                "platform_analysis_completed", "all_processing_completed",
            }  # fmt: skip

            async def all_done() -> bool:
                # Deliveries are independent jobs: out of order, as Ringg's contract allows.
                return {json.loads(q.body)["event_type"] for q in receiver.delivered()} >= expected

            await eventually(all_done, timeout_s=30)
            got = {p["event_type"]: p for p in payloads(receiver, secret)}
            for req in receiver.delivered():
                assert req.headers["authorization"] == "Bearer receiver-token"
                assert req.method == "POST"
            started = got["call_started"]
            assert COMMON <= set(started)
            assert (started["status"], started["sub_status"]) == ("registered", "QUEUED")
            assert started["call_sid"] is None and started["called_on"] is None
            done = got["call_completed"]
            assert COMPLETED <= set(done)
            assert done["call_id"] == call_id and done["status"] == "completed"
            assert done["version"] == "1.0" and done["timestamp"].endswith("Z")
            assert isinstance(done["transcript"], list) and done["transcript"]
            assert done["agent_message_count"] >= 1 and done["recording_url"] is None
            assert done["attempts"][-1]["status"] == "ACCEPTED"
            rec = got["recording_completed"]
            assert not {"status", "agent_id", "workspace_id", "version_slug"} & set(rec)
            assert rec["recording_duration"] > 0
            link = urlsplit(rec["recording_url"])
            wav = await t.client.get(link.path.removeprefix("/ca/api/v0") + "?" + link.query)
            assert wav.status_code == 200 and wav.content[:4] == b"RIFF"
            analysis = got["platform_analysis_completed"]
            assert analysis["entity_type"] == "call"
            assert analysis["analysis_data"]["summary"] == ANALYSIS["summary"]
            final = got["all_processing_completed"]
            assert COMPLETED <= set(final)
            assert final["platform_analysis_status"] == "success"
            assert final["platform_analysis"]["summary"]
            assert final["client_analysis_status"] in ("success", "not_enabled")
            assert final["recording_url"]
            await t.client.aclose()
    finally:
        await receiver.down()


async def test_unconnected_and_retry_outcomes(make_app: MakeApp) -> None:
    receiver = await ChaosReceiver().up()
    try:
        async with make_app() as app:
            t = await new_tenant(app)
            agent_id = await agent_with_hooks(
                t, [receiver.url()], events=["call_completed", "all_processing_completed"]
            )
            (ep,) = await endpoints(t, agent_id)
            number = (await t.client.get("/workspace/numbers")).json()["workspace_numbers"][0]
            retry = {"call_retry_config": {"retry_count": 1, "retry_busy": 30}}
            for to, config in (("+14155550001", retry), ("+14155550002", {})):
                r = await t.client.post(
                    "/calling/outbound/individual",
                    json=call_body(
                        agent_id, to=to, from_number_id=number["id"], call_config=config
                    ),
                )
                assert r.status_code == 200, r.text

            async def three() -> bool:
                return len(receiver.delivered()) >= 3

            await eventually(three, timeout_s=30)
            got = payloads(receiver, ep["secret"])
            kinds = sorted((p["event_type"], p["status"], p["to_number"]) for p in got)
            assert kinds == [
                ("all_processing_completed", "failed", "+14155550002"),
                ("call_completed", "failed", "+14155550002"),
                ("call_completed", "retry", "+14155550001"),
            ]
            retried = next(p for p in got if p["status"] == "retry")
            assert retried["sub_status"] == "RETRY_SCHEDULED" and retried["retry_count"] == 1
            assert retried["transcript"] == [] and retried["attempts"][0]["status"] == "busy line"
            final = next(p for p in got if p["event_type"] == "all_processing_completed")
            assert final["platform_analysis_status"] == "not_enabled"
            await t.client.aclose()
    finally:
        await receiver.down()


async def test_event_exists_iff_its_state_change_committed(make_app: MakeApp) -> None:
    async with make_app() as app:
        c: Container = app.state.container
        t = await new_tenant(app)
        agent_id = await agent_with_hooks(t, ["http://127.0.0.1:9/never"])
        number = (await t.client.get("/workspace/numbers")).json()["workspace_numbers"][0]
        later = {"call_time": {"scheduled_at": "2099-01-01T09:00:00+05:30"}}
        ok = await t.client.post(
            "/calling/outbound/individual",
            json=call_body(agent_id, from_number_id=number["id"], call_config=later),
        )
        assert ok.status_code == 200
        # Refused calls (no credits) leave neither a call nor an event.
        greedy = {"max_call_length": 10**6, **later}
        refused = await t.client.post(
            "/calling/outbound/individual",
            json=call_body(agent_id, from_number_id=number["id"], call_config=greedy),
        )
        assert refused.status_code >= 400, refused.text
        # A transaction that fails after recording rolls its event back with it.
        call_id = ok.json()["data"]["call_id"]
        with pytest.raises(RuntimeError):
            async with c.uow.begin() as session:
                call = await session.get(Call, call_id)
                assert call is not None
                call.sub_status = "CHANGED"
                await events.record_call_started(session, call)
                raise RuntimeError("state change fails")
        async with c.uow() as session:
            calls = await session.scalar(
                select(func.count()).select_from(Call).where(Call.agent_id == agent_id)
            )
            started = await session.scalar(
                select(func.count())
                .select_from(WebhookEvent)
                .where(WebhookEvent.agent_id == agent_id, WebhookEvent.event_type == "call_started")
            )
            deliveries = await session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
                .where(WebhookEvent.agent_id == agent_id)
            )
            call = await session.get(Call, call_id)
        assert calls == 1 and started == 1 and deliveries == 1
        assert call is not None and call.sub_status != "CHANGED"
        assert new_id() != call_id
        await t.client.aclose()


class BrokenAnalysis(FakeEngines):
    async def analysis_llm(self, settings: VersionSettings) -> LanguageModel:
        raise ProviderError("analysis model is missing", category=ErrorCategory.NOT_INSTALLED)


async def test_failed_analysis_still_completes_processing(make_app: MakeApp) -> None:
    receiver = await ChaosReceiver().up()
    try:
        async with make_app(engines=BrokenAnalysis()) as app:
            t = await new_tenant(app)
            agent_id = await agent_with_hooks(
                t, [receiver.url()], events=["all_processing_completed"]
            )
            (ep,) = await endpoints(t, agent_id)
            number = (await t.client.get("/workspace/numbers")).json()["workspace_numbers"][0]
            r = await t.client.post(
                "/calling/outbound/individual",
                json=call_body(agent_id, from_number_id=number["id"]),
            )
            assert r.status_code == 200

            async def one() -> bool:
                return len(receiver.delivered()) == 1

            await eventually(one, timeout_s=30)
            (final,) = payloads(receiver, ep["secret"])
            assert final["status"] == "completed" and final["transcript"]
            assert final["platform_analysis_status"] == "failed"
            assert final["client_analysis_status"] == "failed"
            assert final["recording_url"]
            await t.client.aclose()
    finally:
        await receiver.down()
