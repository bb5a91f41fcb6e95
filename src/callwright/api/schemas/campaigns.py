"""Campaign shapes (ringg-api.md §2.6), and ours for pause/resume/progress and do-not-call."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from callwright.api.schemas.common import iso
from callwright.db.models import Call
from callwright.db.models_campaigns import Campaign
from callwright.domain.campaign import RINGG_STATUS, CampaignStatus
from callwright.services.campaigns import Counts

UUID = r"^[0-9a-fA-F-]{1,36}$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StartCampaign(_Body):
    agent_id: str = Field(max_length=36)
    list_id: str = Field(max_length=36)
    from_numbers: list[str] = Field(min_length=1, max_length=100)
    max_concurrent_calls: int | None = Field(
        default=None, ge=1, le=100_000, description="ours: cap this campaign's live calls"
    )


class StartCampaignV2(_Body):
    agent_id: str = Field(max_length=36)
    list_id: str = Field(max_length=36)
    number_pool_id: str = Field(max_length=36)
    email_completion_user_ids: list[str] = Field(default_factory=list, max_length=100)
    callback_url: str | None = Field(default=None, max_length=2048)
    max_concurrent_calls: int | None = Field(
        default=None, ge=1, le=100_000, description="ours: cap this campaign's live calls"
    )


class StartedResponse(BaseModel):
    status: str = "campaign registered successfully!"
    has_ongoing_calls: bool


class MakeCallAsync(_Body):
    bulk_list_id: str = Field(max_length=36)
    agent_id: str = Field(max_length=36)
    country_code: str = Field(max_length=8)
    campaign_start_time: str = Field(max_length=40)
    campaign_end_time: str = Field(max_length=40)
    call_config: dict[str, Any] = Field(default_factory=dict)
    from_numbers: list[str] | None = Field(default=None, min_length=1, max_length=100)
    number_pool_id: str | None = Field(default=None, max_length=36)
    concurrency_percentage: int = Field(default=0, ge=0, le=100)
    email_completion_user_ids: list[str] = Field(default_factory=list, max_length=100)
    callback_url: str | None = Field(default=None, max_length=2048)
    max_concurrent_calls: int | None = Field(
        default=None, ge=1, le=100_000, description="ours: cap this campaign's live calls"
    )

    @model_validator(mode="after")
    def _one_source(self) -> MakeCallAsync:
        if (self.from_numbers is None) == (self.number_pool_id is None):
            raise ValueError("give exactly one of from_numbers and number_pool_id")
        return self


class MakeCallAsyncResponse(BaseModel):
    message: str = "Campaign calls scheduled"
    bulk_list_id: str
    status: str = "scheduled"


class FromList(_Body):
    list_id: str = Field(max_length=36)
    agent_id: str = Field(max_length=36)
    campaign_name: str = Field(default="", max_length=200)
    call_config: dict[str, Any] = Field(default_factory=dict)
    campaign_start_time: str | None = Field(default=None, max_length=40)
    campaign_end_time: str | None = Field(default=None, max_length=40)


class RowErrorOut(BaseModel):
    row_number: int
    reason: str


class SavedResponse(BaseModel):
    message: str = "Contacts imported successfully!"
    list_id: str
    custom_args_values: list[dict[str, str]]
    total_rows: int
    successful_rows: int
    failed_rows: int
    invalid_rows: list[RowErrorOut] = Field(
        default_factory=list, description="ours: the first rejected rows, with reasons"
    )


class UploadStatus(BaseModel):
    bulk_list_id: str
    status: str
    campaign_name: str
    total_callees: int
    invalidated_rows_count: int
    invalidated_rows_csv_url: str | None
    total_rows: int
    processed_rows: int
    successful_rows: int
    failed_rows: int
    error: str | None = None


class BalanceResponse(BaseModel):
    status: str
    bulk_list_id: str
    message: str
    required_credits: float
    available_credits: float
    sufficient_balance: bool


class CampaignOut(BaseModel):
    id: str
    name: str
    campaign_status: str
    status: str = Field(description="ours: the exact state (draft, scheduled, running, ...)")
    agent_id: str
    created_at: str
    updated_at: str
    campaign_start_time: str | None
    campaign_end_time: str | None
    total_contacts: int
    total_count: int | None = None
    registered_count: int | None = None
    completed_count: int | None = None

    @classmethod
    def of(cls, c: Campaign, counts: Counts | None) -> CampaignOut:
        return cls(
            id=c.id,
            name=c.name,
            campaign_status=RINGG_STATUS[CampaignStatus(c.status)],
            status=c.status,
            agent_id=c.agent_id,
            created_at=iso(c.created_at),
            updated_at=iso(c.updated_at),
            campaign_start_time=iso(c.start_at) if c.start_at else None,
            campaign_end_time=iso(c.end_at) if c.end_at else None,
            total_contacts=c.total_contacts,
            total_count=counts.total if counts else None,
            registered_count=counts.registered if counts else None,
            completed_count=counts.completed if counts else None,
        )


class Pagination(BaseModel):
    total: int
    limit: int
    offset: int


class CampaignList(BaseModel):
    campaigns: list[CampaignOut]
    pagination: Pagination


class ContactProgress(BaseModel):
    call_id: str
    mobile_number: str
    callee_name: str
    status: str
    sub_status: str
    attempts: int
    next_attempt_time: str | None

    @classmethod
    def of(cls, call: Call) -> ContactProgress:
        return cls(
            call_id=call.id,
            mobile_number=call.to_number,
            callee_name=call.callee_name,
            status=call.status,
            sub_status=call.sub_status,
            attempts=len(call.attempts),
            next_attempt_time=iso(call.due_at) if call.status == "retry" else None,
        )


class CampaignProgress(BaseModel):
    campaign: CampaignOut
    by_status: dict[str, int]
    contacts: list[ContactProgress]
    pagination: Pagination


class DncNumbers(_Body):
    numbers: list[str] = Field(min_length=1, max_length=10_000)
    reason: str = Field(default="", max_length=200)


class DncAdded(BaseModel):
    message: str = "Numbers added to the do-not-call list"
    added: int


class DncImported(DncAdded):
    invalid_rows: list[RowErrorOut] = Field(
        default_factory=list, description="rows not read as phone numbers (not added)"
    )


class DncEntryOut(BaseModel):
    number: str
    reason: str
    created_at: str


class DncList(BaseModel):
    numbers: list[DncEntryOut]
    pagination: Pagination


class DncCheck(BaseModel):
    numbers: dict[str, bool]


class ContactListOut(BaseModel):
    id: str
    name: str
    status: str
    agent_id: str | None
    total_rows: int
    successful_rows: int
    failed_rows: int
    created_at: str


class ContactLists(BaseModel):
    lists: list[ContactListOut]
    pagination: Pagination
