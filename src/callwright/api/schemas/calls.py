"""Calling bodies: individual calls (v1, v2), history, call details, termination."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from callwright.api.schemas.common import iso
from callwright.db.models import Call
from callwright.db.repositories.calls import CallRow
from callwright.services.calls import CallRequest

StatusName = Literal[
    "registered", "ongoing", "retry", "error", "completed", "failed", "cancelled", "forwarded"
]  # fmt: skip
OneOrMany = str | list[str]
_ID = Field(default=None, max_length=64)


class SmartFormatter(BaseModel):
    extract_first_name: bool = False
    transliteration: bool = False
    transliteration_language: dict[str, str] = Field(
        default_factory=lambda: {"source": "en", "target": "hi"}
    )


class _IndividualCall(BaseModel):
    model_config = ConfigDict(extra="allow")  # legacy fields (callback_url…) are accepted

    name: str = Field(max_length=200)
    mobile_number: str = Field(max_length=32)
    agent_id: str = Field(max_length=64)
    from_number_id: OneOrMany | None = None
    from_number: OneOrMany | None = None
    custom_args_values: dict[str, Any] = Field(default_factory=dict, max_length=100)
    smart_formatter: SmartFormatter | None = None
    call_config: dict[str, Any] = Field(default_factory=dict)
    version_id: str | None = _ID
    call_category: str | None = Field(default=None, max_length=100)
    parent_call_id: str | None = _ID
    scheduled_at: str | None = Field(default=None, max_length=40)

    def sources(self) -> list[str]:
        return [
            n for n in ("number_pool_id", "from_number_id", "from_number") if getattr(self, n, None)
        ]

    def to_request(self) -> CallRequest:
        def many(value: OneOrMany | None) -> tuple[str, ...]:
            return () if value is None else (value,) if isinstance(value, str) else tuple(value)

        return CallRequest(
            agent_id=self.agent_id,
            name=self.name,
            mobile_number=self.mobile_number,
            from_number_ids=many(self.from_number_id),
            from_numbers=many(self.from_number),
            number_pool_id=getattr(self, "number_pool_id", None),
            custom_args_values=self.custom_args_values,
            call_config=self.call_config,
            smart_formatter=self.smart_formatter.model_dump() if self.smart_formatter else {},
            version_id=self.version_id,
            voice_id=getattr(self, "voice_id", None),
            call_category=self.call_category,
            parent_call_id=self.parent_call_id,
            scheduled_at=self.scheduled_at,
        )


class IndividualCall(_IndividualCall):
    """POST /calling/outbound/individual: exactly one of from_number_id and from_number."""

    @model_validator(mode="after")
    def _one_caller_source(self) -> IndividualCall:
        if len(self.sources()) != 1:
            raise ValueError("Provide exactly one of from_number_id or from_number")
        return self


class IndividualCallV2(_IndividualCall):
    """POST /calling/v2/outbound/individual: one of number_pool_id, from_number_id, from_number
    (checked in the route: the reference answers 400 for this one)."""

    number_pool_id: str | None = _ID
    voice_id: str | None = _ID


class CallInitiated(BaseModel):
    call_id: str
    call_direction: str
    call_status: str
    initiated_at: str
    agent_id: str
    custom_args_values: dict[str, Any]


class CallInitiatedResponse(BaseModel):
    status: str
    data: CallInitiated
    message: str

    @classmethod
    def of(cls, call: Call) -> dict[str, Any]:
        data = CallInitiated(
            call_id=call.id,
            call_direction=call.direction,
            call_status=call.status,
            # Ringg gives this one without an offset; it is UTC.
            initiated_at=call.created_at.replace(tzinfo=None).isoformat(timespec="microseconds"),
            agent_id=call.agent_id,
            custom_args_values=call.custom_args_values,
        )
        return cls(status="success", data=data, message="Call initiated successfully").model_dump()


class HistoryVersion(BaseModel):
    version_id: str
    version_slug: str


class HistoryAgent(BaseModel):
    id: str
    agent_name: str
    agent_version_id: str
    orchestration_mode: str
    version: HistoryVersion


class HistoryCall(BaseModel):
    id: str
    to_number: str
    name: str
    status: str
    sub_status: str
    transcript: str
    audio_recording: str | None
    created_at: str
    agent: HistoryAgent
    call_duration: float
    call_attempt_time: str | None
    call_cost: float
    call_type: str
    inbound_from: str | None
    credits_processed: bool
    from_numbers: list[str]
    voicemail_detected: bool
    bulk_list_id: str | None
    next_attempt_time: str | None
    retry_count: int

    @classmethod
    def of(cls, row: CallRow, recording: str | None) -> HistoryCall:
        call = row.call
        return cls(
            id=call.id,
            to_number=call.to_number,
            name=call.callee_name,
            status=call.status,
            sub_status=call.sub_status,
            transcript=json.dumps(call.transcript, ensure_ascii=False),
            audio_recording=recording,
            created_at=iso(call.created_at),
            agent=HistoryAgent(
                id=call.agent_id,
                agent_name=row.agent_name,
                agent_version_id=call.agent_version_id,
                orchestration_mode=row.orchestration_mode,
                version=HistoryVersion(
                    version_id=call.agent_version_id, version_slug=row.version_slug
                ),
            ),
            call_duration=call.call_duration,
            call_attempt_time=iso(call.initiated_at) if call.initiated_at else None,
            call_cost=call.call_cost,
            call_type=call.direction,
            inbound_from=call.from_number if call.direction == "inbound" else None,
            credits_processed=call.credits_processed,
            from_numbers=call.from_numbers,
            voicemail_detected=call.voicemail_detected,
            bulk_list_id=call.bulk_list_id,
            next_attempt_time=iso(call.next_attempt_time) if call.next_attempt_time else None,
            retry_count=call.retry_count,
        )


class HistoryResponse(BaseModel):
    calls: list[HistoryCall]
    limit: int
    offset: int
    count: int
    total: int | Literal["many"]


class CallDetails(BaseModel):
    id: str
    call_direction: str
    call_status: str
    call_sub_status: str
    from_number: str | None
    to_number: str
    callee_name: str
    agent_id: str
    initiation_time: str | None
    recording_url: str | None
    transcription_url: list[dict[str, str]]
    custom_args_values: dict[str, Any]
    call_duration: float
    call_cost: float
    end_reason: str | None
    turn_latencies: list[dict[str, Any]]
    attempts: list[dict[str, Any]]
    platform_analysis_status: str
    client_analysis_status: str
    platform_analysis: dict[str, Any] | None = None
    client_analysis: dict[str, Any] | None = None

    @classmethod
    def of(cls, call: Call, recording: str | None, *, send_analysis: bool) -> CallDetails:
        details = cls(
            id=call.id,
            call_direction=call.direction,
            call_status=call.status,
            call_sub_status=call.sub_status,
            from_number=call.from_number,
            to_number=call.to_number,
            callee_name=call.callee_name,
            agent_id=call.agent_id,
            initiation_time=iso(call.initiated_at) if call.initiated_at else None,
            recording_url=recording,
            transcription_url=call.transcript,
            custom_args_values=call.custom_args_values,
            call_duration=call.call_duration,
            call_cost=call.call_cost,
            end_reason=call.end_reason,
            turn_latencies=call.turn_latencies,
            attempts=call.attempts,
            platform_analysis_status=call.platform_analysis_status,
            client_analysis_status=call.client_analysis_status,
        )
        if send_analysis:
            details.platform_analysis = call.platform_analysis or {}
            details.client_analysis = call.client_analysis or {}
        return details


class CallDetailsResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"description": "analysis only with send_analysis"})
    status: str
    data: CallDetails


class TerminateCalls(BaseModel):
    agent_id: str | None = _ID
    call_ids: list[str] = Field(default_factory=list, max_length=100)
    campaign_id: str | None = _ID
    mobile_numbers: list[str] = Field(default_factory=list, max_length=100)
