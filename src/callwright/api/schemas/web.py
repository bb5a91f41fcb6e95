"""Shapes of our own dashboard and browser-call endpoints (none of them is in Ringg's API)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from callwright.api.schemas.common import iso
from callwright.db.models import ApiKey


class ApiKeyOut(BaseModel):
    id: str
    name: str
    hint: str  # the first and last characters; the key itself is shown only once
    created_at: str
    revoked_at: str | None

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyOut:
        return cls(
            id=row.id,
            name=row.name,
            hint=row.hint,
            created_at=iso(row.created_at),
            revoked_at=iso(row.revoked_at) if row.revoked_at else None,
        )


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyOut]


class NewApiKey(BaseModel):
    name: str = Field(default="dashboard", min_length=1, max_length=100)


class ApiKeyCreated(BaseModel):
    message: str
    api_key: str = Field(description="The key itself. Shown this once; store it now.")
    key: ApiKeyOut


class PublicKeyRotated(BaseModel):
    message: str
    agent_id: str
    webcall_public_key: str


class WebCallStart(BaseModel):
    """The first message a browser sends on the browser-call WebSocket."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["start"]
    agent_id: str = Field(min_length=1, max_length=64)
    api_key: str | None = Field(default=None, max_length=200, description="dashboard")
    public_key: str | None = Field(default=None, max_length=200, description="widget")
    variables: dict[str, Any] | None = None
    sample_rate_hz: int = 16_000
