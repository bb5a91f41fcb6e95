"""GET /workspace/numbers and our telephony-account and number-import bodies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from callwright.api.schemas.common import iso
from callwright.db.models import Agent, PhoneNumber, TelephonyAccount
from callwright.domain.telephony import redacted


class NumberAgent(BaseModel):
    id: str
    agent_display_name: str


class WorkspaceNumber(BaseModel):
    id: str
    number: str
    created_at: str
    call_count: int
    agent: NumberAgent | None
    is_inbound_enabled: bool
    is_test_number: bool
    tags: list[str]
    is_spam: bool = False
    spam_message: str | None = None
    provider: str | None
    display_name: str | None
    owner: str | None = None
    is_custom_number: bool
    telephony_id: str | None
    number_pool_id: str | None

    @classmethod
    def of(cls, n: PhoneNumber, account: TelephonyAccount, agent: Agent | None) -> WorkspaceNumber:
        return cls(
            id=n.id,
            number=n.number,
            created_at=iso(n.created_at),
            call_count=n.call_count,
            agent=NumberAgent(id=agent.id, agent_display_name=agent.display_name)
            if agent and not agent.is_archived
            else None,
            is_inbound_enabled=n.is_inbound_enabled,
            is_test_number=n.is_test_number,
            tags=n.tags,
            provider=account.provider,
            display_name=n.display_name,
            is_custom_number=account.provider != "sim",
            telephony_id=account.id,
            number_pool_id=n.number_pool_id,
        )


class WorkspaceNumbersResponse(BaseModel):
    workspace_numbers: list[WorkspaceNumber]


class NewTelephonyAccount(BaseModel):
    provider: Literal["sim", "sip", "twilio"]
    name: str = Field(min_length=1, max_length=100)
    credentials: dict[str, Any] = Field(
        default_factory=dict,
        description="sim: {}; sip: {host, port, transport, username, password, registration}; "
        "twilio: {account_sid, auth_token}. Secrets are stored, never returned.",
    )
    max_concurrent_calls: int | None = Field(default=None, ge=1, le=100_000)
    calls_per_second: float | None = Field(default=None, gt=0, le=10_000)


class AccountLimits(BaseModel):
    """The carrier's limits on an account: channels, and call attempts per second."""

    max_concurrent_calls: int | None = Field(default=None, ge=1, le=100_000)
    calls_per_second: float | None = Field(default=None, gt=0, le=10_000)


class TelephonyAccountOut(BaseModel):
    id: str
    provider: str
    name: str
    created_at: str
    credentials: dict[str, Any]
    max_concurrent_calls: int | None
    calls_per_second: float | None

    @classmethod
    def of(cls, a: TelephonyAccount) -> TelephonyAccountOut:
        return cls(
            id=a.id,
            provider=a.provider,
            name=a.name,
            created_at=iso(a.created_at),
            credentials=redacted(a.credentials),
            max_concurrent_calls=a.max_concurrent_calls,
            calls_per_second=a.calls_per_second,
        )


class TelephonyAccountResponse(BaseModel):
    message: str
    telephony_account: TelephonyAccountOut


class TelephonyAccountsResponse(BaseModel):
    telephony_accounts: list[TelephonyAccountOut]


class NumberEntry(BaseModel):
    number: str = Field(min_length=2, max_length=32, description="E.164, e.g. +14155550123")
    display_name: str | None = Field(default=None, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=20)
    is_inbound_enabled: bool = False


class ImportNumbers(BaseModel):
    telephony_account_id: str = Field(max_length=64)
    numbers: list[NumberEntry | str] = Field(min_length=1, max_length=100)


class ImportNumbersResponse(BaseModel):
    message: str
    workspace_numbers: list[WorkspaceNumber]
