"""Campaign tables: campaigns and the workspace's do-not-call list.

A campaign's contacts live in ``contacts`` (see models_contacts.py) under a list whose id is
the campaign's id when the campaign was made from an upload (Ringg's ``list_id`` /
``bulk_list_id``); once started, each contact is one row in ``calls``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callwright.db.models import ID, Base
from callwright.db.types import JSONType, UTCDateTime, utcnow


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_ws_created", "workspace_id", "created_at"),
        Index("ix_campaigns_status", "status"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    list_id: Mapped[str] = mapped_column(ID)
    agent_id: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(String(200))
    # domain.campaign.CampaignStatus
    status: Mapped[str] = mapped_column(String(24))
    country_code: Mapped[str] = mapped_column(String(8), default="")
    # domain.assistant.CallConfig overrides: call_time (window, time zone) and retries.
    call_config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    variables_map: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Caller numbers (ids of phone_numbers), rotated across the contacts.
    from_number_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    number_pool_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    # Caps of this campaign (None: only the workspace's and the telephony account's apply).
    max_concurrent_calls: Mapped[int | None] = mapped_column(Integer, nullable=True)
    concurrency_percentage: Mapped[int] = mapped_column(Integer, default=0)
    total_contacts: Mapped[int] = mapped_column(Integer, default=0)
    required_credits: Mapped[float] = mapped_column(Float, default=0.0)
    # Bumped each time the pacer hands over to a fresh run of itself (bounded job history).
    pacer_generation: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DoNotCall(Base):
    """A number no call of the workspace may ever dial (individual, campaign or retry)."""

    __tablename__ = "do_not_call"

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
