"""Tables. Every row that belongs to a tenant carries ``workspace_id``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
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
