"""Tables. Every row that belongs to a tenant carries ``workspace_id``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from callwright.db.types import JSONType, UTCDateTime, utcnow

ID = String(36)


class Base(DeclarativeBase):
    pass


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credits: Mapped[float] = mapped_column(Float, default=0.0)
    locked_credits: Mapped[float] = mapped_column(Float, default=0.0)
    # Calls of this workspace live at once (outbound, inbound, web); None: the setting's default.
    max_concurrent_calls: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    username: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20), default="owner")
    invite_status: Mapped[str] = mapped_column(String(20), default="success")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100), default="default")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TelephonyAccount(Base):
    __tablename__ = "telephony_accounts"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    # Provider credentials and settings; never returned by the API (see api/schemas/numbers.py).
    credentials: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The carrier's limits on this account (channels and call attempts per second); None: none.
    max_concurrent_calls: Mapped[int | None] = mapped_column(Integer, nullable=True)
    calls_per_second: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PhoneNumber(Base):
    __tablename__ = "phone_numbers"
    __table_args__ = (Index("ix_phone_numbers_ws_number", "workspace_id", "number"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"), index=True)
    telephony_account_id: Mapped[str] = mapped_column(ForeignKey("telephony_accounts.id"))
    number: Mapped[str] = mapped_column(String(20))
    display_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    is_inbound_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    is_test_number: Mapped[bool] = mapped_column(Boolean, default=False)
    inbound_agent_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    number_pool_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    call_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (Index("ix_agents_ws_created", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    display_name: Mapped[str] = mapped_column(String(100))
    agent_type: Mapped[str] = mapped_column(String(20))
    orchestration_mode: Mapped[str] = mapped_column(String(20), default="single_node")
    template_name: Mapped[str] = mapped_column(String(100), default="custom")
    template_label: Mapped[str] = mapped_column(String(100), default="Custom Agent")
    template_icon: Mapped[str] = mapped_column(String(16), default="🤖")
    template_source: Mapped[str] = mapped_column(String(20), default="custom")
    classification_labels: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    form_fields: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    tools: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    active_version_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    is_ab_live: Mapped[bool] = mapped_column(Boolean, default=False)
    webcall_public_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    call_count: Mapped[int] = mapped_column(Integer, default=0)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AgentVersion(Base):
    __tablename__ = "agent_versions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    slug: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    call_traffic: Mapped[int] = mapped_column(Integer, default=100)
    # domain.assistant.VersionSettings, as JSON.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Call(Base):
    """One call to one callee. Retries are attempts of the same call (Ringg's ``attempts[]``)."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_ws_created", "workspace_id", "created_at", "id"),
        Index("ix_calls_ws_agent_created", "workspace_id", "agent_id", "created_at"),
        Index("ix_calls_ws_status_created", "workspace_id", "status", "created_at"),
        Index("ix_calls_ws_list_created", "workspace_id", "bulk_list_id", "created_at"),
        Index("ix_calls_ws_to_number", "workspace_id", "to_number"),
        Index("ix_calls_status_due", "status", "due_at"),  # the dispatcher's "what is due"
        # What is due, per campaign (individual calls: bulk_list_id NULL).
        Index("ix_calls_list_due", "bulk_list_id", "status", "due_at"),
        # analytics (migration 0006): covering indexes, so aggregates read no call rows
        Index(
            "ix_calls_ws_created_stats",
            "workspace_id",
            "created_at",
            "agent_id",
            "status",
            "voicemail_detected",
            "call_duration",
            "call_cost",
            "from_number",
        ),
        Index(
            "ix_calls_ws_list_stats",
            "workspace_id",
            "bulk_list_id",
            "created_at",
            "agent_id",
            "status",
            "voicemail_detected",
            "call_duration",
            "call_cost",
            "sub_status",
        ),
        Index("ix_calls_status_dispatched", "status", "dispatched_at"),  # live calls, for caps
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id"))
    agent_id: Mapped[str] = mapped_column(ID)
    agent_version_id: Mapped[str] = mapped_column(ID)
    bulk_list_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    direction: Mapped[str] = mapped_column(String(10), default="outbound")
    status: Mapped[str] = mapped_column(String(12))
    sub_status: Mapped[str] = mapped_column(String(64))
    to_number: Mapped[str] = mapped_column(String(20))
    from_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    from_numbers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    telephony_account_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    callee_name: Mapped[str] = mapped_column(String(200), default="")
    custom_args_values: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    call_config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    voice_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    call_category: Mapped[str | None] = mapped_column(String(100), nullable=True)
    parent_call_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    # The earliest moment the next attempt may be dialled (schedule, calling window, retry
    # delay), and when the dispatcher handed that attempt to the job queue.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # How many times a job was handed over for this call; it names the job, so a call sent
    # back to wait (window closed, campaign paused) gets a fresh job when it is due again.
    dispatches: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retry_count: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    provider_call_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    initiated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    call_duration: Mapped[float] = mapped_column(Float, default=0.0)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    turn_latencies: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    recording_path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    recording_duration: Mapped[float] = mapped_column(Float, default=0.0)
    voicemail_detected: Mapped[bool] = mapped_column(Boolean, default=False)
    locked_credits: Mapped[float] = mapped_column(Float, default=0.0)
    call_cost: Mapped[float] = mapped_column(Float, default=0.0)
    credits_processed: Mapped[bool] = mapped_column(Boolean, default=False)
    platform_analysis_status: Mapped[str] = mapped_column(String(16), default="not_enabled")
    platform_analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    client_analysis_status: Mapped[str] = mapped_column(String(16), default="not_enabled")
    client_analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    # In the analytics roll-up yet (models_analytics.py); set once, when the call is final.
    rolled_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class DialLedger(Base):
    """One row per (call, attempt), written before dialling: a second dial of the same attempt
    finds the row and reconciles instead of calling the person again."""

    __tablename__ = "dial_ledger"
    __table_args__ = (Index("ix_dial_ledger_account_dialed", "telephony_account_id", "dialed_at"),)

    call_id: Mapped[str] = mapped_column(ID, primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ID)
    # Dials per second of an account are counted here, across every worker.
    telephony_account_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    dialed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)


class IdempotencyKey(Base):
    """The first response to a POST with an ``Idempotency-Key`` header, replayed on repeats."""

    __tablename__ = "idempotency_keys"

    workspace_id: Mapped[str] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Other areas' tables live in their own modules; importing them here registers them with Base.
from callwright.db import models_analytics as _analytics  # noqa: E402, F401
from callwright.db import models_campaigns as _campaigns  # noqa: E402, F401
from callwright.db import models_contacts as _contacts  # noqa: E402, F401
from callwright.db import models_kb as _kb  # noqa: E402, F401
from callwright.db import models_webhooks as _webhooks  # noqa: E402, F401
