"""The ``analysis`` job: post-call summary, classification and extraction, stored on the call."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callwright.analysis.post_call import analyse
from callwright.db.repositories import agents as agents_repo
from callwright.db.repositories import calls as calls_repo
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.assistant import VersionSettings
from callwright.jobs.port import JobContext, RetryPolicy
from callwright.providers.base import ProviderError
from callwright.services.engines import EngineSource
from callwright.services.events import CallEvents
from callwright.services.voicemail import is_voicemail_greeting

log = logging.getLogger(__name__)


@dataclass
class Analyst:
    uow: SessionFactory
    engines: EngineSource
    events: CallEvents | None = None  # webhook events, committed with the analysis

    async def run(self, ctx: JobContext, payload: Mapping[str, Any]) -> None:
        call_id, workspace_id = str(payload["call_id"]), str(payload["workspace_id"])
        try:
            await ctx.step(
                "analyse",
                lambda: self._analyse(workspace_id, call_id),
                retry=RetryPolicy(max_attempts=3, interval_s=5.0),
            )
        except Exception:
            # Retries exhausted (engines may wrap the last error): processing has ended in
            # failure if the step recorded one; tell the subscribers.
            await ctx.step("gave-up", lambda: self._gave_up(workspace_id, call_id))
            raise

    async def _gave_up(self, workspace_id: str, call_id: str) -> None:
        if self.events is None:
            return
        async with self.uow.begin() as session:
            row = await calls_repo.get(session, workspace_id, call_id)
            if row is not None and row.platform_analysis_status == "failed":
                await self.events.processing_finished(session, row)

    async def _analyse(self, workspace_id: str, call_id: str) -> None:
        async with self.uow() as session:
            call = await calls_repo.get(session, workspace_id, call_id)
            if call is None or call.platform_analysis_status not in ("pending", "failed"):
                return
            agent = await agents_repo.get(session, workspace_id, call.agent_id)
            version = await agents_repo.version(
                session, workspace_id, call.agent_id, call.agent_version_id
            )
        settings = VersionSettings.model_validate(version.settings if version else {})
        voicemail = call.voicemail_detected or any(
            is_voicemail_greeting(turn.get("user", "")) for turn in call.transcript[:2]
        )
        try:
            llm = await self.engines.analysis_llm(settings)
            result = await analyse(
                llm,
                transcript=call.transcript,
                labels=agent.classification_labels if agent else {},
                custom_prompt=settings.custom_analysis_prompt,
                end_reason=call.end_reason,
                voicemail=voicemail,
            )
        except ProviderError as exc:
            log.warning("analysis of call %s failed: %s", call_id, exc)
            async with self.uow.begin() as session:
                row = await calls_repo.get(session, workspace_id, call_id)
                assert row is not None
                row.platform_analysis_status = "failed"
                row.client_analysis_status = "failed"
                if self.events is not None and not exc.retryable:
                    await self.events.processing_finished(session, row)
            if exc.retryable:
                raise
            return
        async with self.uow.begin() as session:
            row = await calls_repo.get(session, workspace_id, call_id)
            assert row is not None
            row.platform_analysis = result.platform | {"raw_model_output": result.raw}
            row.platform_analysis_status = "success"
            row.client_analysis = result.client
            row.client_analysis_status = "success" if result.client is not None else "not_enabled"
            if voicemail and not row.voicemail_detected:
                row.voicemail_detected = True
                row.sub_status = "VOICEMAIL_DETECTED_VIA_LLM"
            if self.events is not None:
                await self.events.processing_finished(session, row)
