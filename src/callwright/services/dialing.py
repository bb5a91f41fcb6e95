"""One call attempt, as a durable job: claim, dial once, converse, record, settle, follow up.

Durability: the job may run again after a crash. Claiming is a conditional UPDATE, and the
dial ledger row (call, attempt) is written before the dial, so a re-run never calls the
person again: it finds the row and reconciles the call instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from callwright.db.models import Call, TelephonyAccount
from callwright.db.repositories import agents as agents_repo
from callwright.db.repositories import calls as calls_repo
from callwright.db.unit_of_work import SessionFactory
from callwright.domain import credits
from callwright.domain.assistant import CallConfig, VersionSettings
from callwright.domain.call import (
    TERMINABLE,
    CallStatus,
    SubStatus,
    completed_sub_status,
    retry_delay_minutes,
    unconnected,
)
from callwright.domain.calling_window import next_allowed
from callwright.domain.voices import DEFAULT_VOICE
from callwright.domain.voices import find as find_voice
from callwright.jobs.port import JobContext, JobSpec
from callwright.media.clock import MediaClock
from callwright.media.config import CallResult, EndReason
from callwright.media.session import CallSession
from callwright.providers.base import DialOutcome, DialRequest, ProviderError
from callwright.services.admission import Admission, Decision, admit
from callwright.services.engines import EngineSource
from callwright.services.events import CallEvents
from callwright.services.knowledge import KnowledgeBases
from callwright.services.session_config import session_config
from callwright.services.telephony import TelephonyDirectory
from callwright.services.voicemail import VoicemailWatch
from callwright.storage.recordings import RecordingStore

log = logging.getLogger(__name__)
ANALYSIS_JOB = "analysis"

Enqueue = Callable[[JobSpec], Awaitable[None]]


def analysis_job(call: Call) -> JobSpec:
    return JobSpec(
        kind=ANALYSIS_JOB,
        key=f"analysis:{call.id}",
        payload={"call_id": call.id, "workspace_id": call.workspace_id},
    )


@dataclass
class Dialer:
    uow: SessionFactory
    engines: EngineSource
    telephony: TelephonyDirectory
    recordings: RecordingStore
    credits_per_minute: float
    enqueue: Enqueue
    ring_timeout_s: float = 30.0
    # One 20 ms clock paces every call of the process (one wake-up per tick for all calls).
    clock: MediaClock | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    events: CallEvents | None = None  # webhook events, committed with each outcome
    knowledge: KnowledgeBases | None = None  # grounds replies in attached knowledge bases
    # Told when an attempt ended and its line is free: the call's campaign id, or None for an
    # individual call. Whoever hands calls over may look for the next one at once.
    line_freed: Callable[[str | None], None] | None = None

    async def run(self, ctx: JobContext, payload: Mapping[str, Any]) -> None:
        """The ``call`` job handler."""
        call_id, workspace_id = str(payload["call_id"]), str(payload["workspace_id"])
        attempt, dispatch = int(payload["attempt"]), int(payload["dispatch"])
        claimed = await ctx.step(
            "claim", lambda: self._claim(workspace_id, call_id, attempt, dispatch)
        )
        if not claimed:
            return  # terminated, or already handled
        follow_up = await ctx.step("attempt", lambda: self._attempt(workspace_id, call_id, attempt))
        if self.line_freed is not None:
            self.line_freed(payload.get("campaign_id"))
        if follow_up is not None:
            # Enqueued from the job body, not from a step: the engine records it as a child
            # job (DBOS refuses to start work inside a step), and keys make repeats harmless.
            await self._follow_up(workspace_id, call_id, follow_up)

    async def _claim(self, workspace_id: str, call_id: str, attempt: int, dispatch: int) -> bool:
        async with self.uow.begin() as session:
            result = await session.execute(
                update(Call)
                .where(
                    Call.id == call_id,
                    Call.workspace_id == workspace_id,
                    # ONGOING with this dispatch number: this job claimed it before a crash
                    # and is running again (the ledger still stops a second dial).
                    Call.status.in_((*TERMINABLE, CallStatus.ONGOING)),
                    Call.retry_count == attempt,
                    Call.dispatches == dispatch,
                )
                .values(
                    status=CallStatus.ONGOING,
                    sub_status=SubStatus.ACCEPTED,
                    initiated_at=self.now(),
                )
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def _attempt(self, workspace_id: str, call_id: str, attempt: int) -> str | None:
        """Dial once and, if answered, hold the conversation. Returns the follow-up to queue."""
        decision = await self._admit(workspace_id, call_id, attempt)
        if decision.admission is Admission.DIALLED_BEFORE:
            await self._reconcile(workspace_id, call_id)
            return None
        if decision.admission is not Admission.DIAL:
            await self._not_dialled(workspace_id, call_id, decision)
            return None
        async with self.uow() as session:
            call = await calls_repo.get(session, workspace_id, call_id)
            assert call is not None
            version = await agents_repo.version(
                session, workspace_id, call.agent_id, call.agent_version_id
            )
            account = await session.get(TelephonyAccount, call.telephony_account_id)
        if version is None or account is None or call.from_number is None:
            await self._finish_unconnected(call, "failed", "not_able_to_call", retry=False)
            return None
        settings = VersionSettings.model_validate(version.settings)
        try:
            telephony = await self.telephony.for_account(account)
            dialed = await telephony.dial(
                DialRequest(
                    call_id=call.id,
                    from_number=call.from_number,
                    to_number=call.to_number,
                    variables={k: str(v) for k, v in call.custom_args_values.items()},
                    ring_timeout_s=self.ring_timeout_s,
                )
            )
        except ProviderError as exc:
            log.warning("dial failed for call %s: %s", call.id, exc.category)
            await self._finish_unconnected(call, "failed", "not_able_to_call", retry=True)
            return None
        if dialed.outcome is not DialOutcome.ANSWERED or dialed.stream is None:
            await self._finish_unconnected(call, dialed.outcome.value, dialed.detail, retry=True)
            return None
        await self._mark_answered(call, dialed.provider_call_id)
        voice = find_voice(call.voice_id or settings.voice_id or "") or DEFAULT_VOICE
        path = self.recordings.path_for(call.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        watch = VoicemailWatch(stream=dialed.stream, enabled=settings.call_config.voicemail.detect)
        try:
            engines = await self.engines.for_call(settings, voice)
            knowledge = (
                self.knowledge.for_call(call.workspace_id, settings) if self.knowledge else None
            )
            config = session_config(
                call, settings, engines, recording_path=path, knowledge=knowledge
            )
            result = await CallSession(
                config=config, stream=dialed.stream, observers=[watch], clock=self.clock
            ).run()
        except ProviderError as exc:
            log.warning("engines failed for call %s: %s", call.id, exc)
            result = CallResult(
                call_id=call.id,
                end_reason=EndReason.ERROR,
                duration_s=0.0,
                transcript=(),
                turn_latencies=(),
                error=str(exc),
            )
        finally:
            await dialed.stream.hangup()
        await self.finish_answered(call, result, voicemail=watch.detected)
        return ANALYSIS_JOB

    async def _admit(self, workspace_id: str, call_id: str, attempt: int) -> Decision:
        """Ask admission until it stops saying "slow down" (the account's calls per second)."""
        while True:
            try:
                async with self.uow.begin() as session:
                    call = await calls_repo.get(session, workspace_id, call_id)
                    assert call is not None
                    decision = await admit(session, call, attempt=attempt, now=self.now())
            except IntegrityError:  # a zombie run wrote the ledger row first
                return Decision(Admission.DIALLED_BEFORE)
            if decision.admission is not Admission.SLOW_DOWN:
                return decision
            assert decision.until is not None
            await asyncio.sleep(max(0.0, (decision.until - self.now()).total_seconds()))

    async def _not_dialled(self, workspace_id: str, call_id: str, decision: Decision) -> None:
        """Admission said no: back to waiting, or cancelled for good."""
        async with self.uow.begin() as session:
            row = await calls_repo.get(session, workspace_id, call_id)
            assert row is not None
            if decision.admission is Admission.WAIT:
                assert decision.until is not None
                waiting = CallStatus.RETRY if row.retry_count else CallStatus.REGISTERED
                row.status, row.initiated_at = waiting, None
                row.sub_status = SubStatus.RETRY_SCHEDULED if row.retry_count else SubStatus.QUEUED
                row.due_at, row.dispatched_at = decision.until, None  # dispatched again when due
                return
            row.status = CallStatus.CANCELLED
            row.sub_status = (
                SubStatus.DND_SKIPPED
                if decision.admission is Admission.DO_NOT_CALL
                else SubStatus.CAMPAIGN_ENDED
            )
            row.ended_at = self.now()
            await self._settle(session, row, cost=0.0)
            if self.events is not None:
                await self.events.call_completed(session, row)
                await self.events.processing_finished(session, row)

    async def _reconcile(self, workspace_id: str, call_id: str) -> None:
        """This attempt was dialled by a run that died: never dial again; close the call."""
        async with self.uow.begin() as session:
            call = await calls_repo.get(session, workspace_id, call_id)
            if call is None or call.status != CallStatus.ONGOING:
                return
            call.status, call.sub_status = CallStatus.ERROR, "RECONCILED_TO_ERROR_FROM_ONGOING"
            call.ended_at = self.now()
            await self._settle(session, call, cost=0.0)
            if self.events is not None:
                await self.events.call_completed(session, call)
                await self.events.processing_finished(session, call)

    async def _mark_answered(self, call: Call, provider_call_id: str) -> None:
        async with self.uow.begin() as session:
            await session.execute(
                update(Call)
                .where(Call.id == call.id)
                .values(answered_at=self.now(), provider_call_id=provider_call_id)
            )

    async def _finish_unconnected(
        self, call: Call, outcome: str, detail: str, *, retry: bool
    ) -> None:
        verdict = unconnected(outcome, detail)
        config = CallConfig.model_validate(call.call_config)
        retries = config.call_retry_config
        async with self.uow.begin() as session:
            row = await calls_repo.get(session, call.workspace_id, call.id)
            assert row is not None
            row.attempts = [*row.attempts, _attempt_record(row, self.now(), verdict.sub_status)]
            if retry and verdict.retry_reason and row.retry_count < retries.retry_count:
                delay = retry_delay_minutes(
                    verdict.retry_reason,
                    busy=retries.retry_busy,
                    not_picked=retries.retry_not_picked,
                    failed=retries.retry_failed,
                )
                window = config.call_time
                row.next_attempt_time = next_allowed(
                    self.now() + timedelta(minutes=delay),
                    start=window.call_start_time,
                    end=window.call_end_time,
                    tz_name=window.timezone,
                )
                row.status, row.sub_status = CallStatus.RETRY, SubStatus.RETRY_SCHEDULED
                row.retry_count += 1
                row.due_at, row.dispatched_at = (
                    row.next_attempt_time,
                    None,
                )  # the dispatcher redials
                if self.events is not None:
                    await self.events.call_completed(session, row)  # interim "retry"
                return
            row.status, row.sub_status = verdict.status, verdict.sub_status
            row.ended_at = self.now()
            await self._settle(session, row, cost=0.0)
            if self.events is not None:
                await self.events.call_completed(session, row)
                await self.events.processing_finished(session, row)  # no analysis to wait for

    async def finish_answered(self, call: Call, result: CallResult, *, voicemail: bool) -> None:
        async with self.uow.begin() as session:
            row = await calls_repo.get(session, call.workspace_id, call.id)
            assert row is not None
            reason = "voicemail" if voicemail else result.end_reason.value
            row.status = CallStatus.COMPLETED
            row.sub_status = completed_sub_status(reason)
            row.end_reason = reason
            row.voicemail_detected = voicemail
            row.ended_at = self.now()
            row.call_duration = round(result.duration_s, 2)
            row.recording_duration = row.call_duration
            row.transcript = list(result.transcript)
            row.turn_latencies = [_latency(t) for t in result.turn_latencies]
            path = self.recordings.path_for(call.id)
            row.recording_path = str(path) if path.exists() else None
            row.attempts = [*row.attempts, _attempt_record(row, self.now(), "ACCEPTED")]
            row.platform_analysis_status = "pending"
            row.client_analysis_status = "pending"
            cost = credits.cost(result.duration_s, credits_per_minute=self.credits_per_minute)
            await self._settle(session, row, cost=cost)
            if self.events is not None:
                await self.events.call_completed(session, row)
                await self.events.recording_completed(session, row)

    async def _settle(self, session: Any, row: Call, *, cost: float) -> None:
        await calls_repo.settle_credits(
            session, row.workspace_id, locked=row.locked_credits, cost=cost
        )
        row.locked_credits, row.call_cost, row.credits_processed = 0.0, cost, True

    async def _follow_up(self, workspace_id: str, call_id: str, kind: str) -> None:
        async with self.uow() as session:
            call = await calls_repo.get(session, workspace_id, call_id)
        assert call is not None
        if kind == ANALYSIS_JOB:
            await self.enqueue(analysis_job(call))


def _attempt_record(call: Call, now: datetime, status: str) -> dict[str, Any]:
    return {
        "attempt_number": call.retry_count + 1,
        "called_on_time": (call.initiated_at or now).isoformat(timespec="microseconds"),
        "status": status,
        "from_number": call.from_number,
    }


def _latency(t: Any) -> dict[str, Any]:
    return {
        "transcript_ms": t.transcript_ms,
        "first_token_ms": t.first_token_ms,
        "first_tts_audio_ms": t.first_tts_audio_ms,
        "first_audio_out_ms": t.first_audio_out_ms,
        "speculative_stt_used": t.speculative_stt_used,
    }
