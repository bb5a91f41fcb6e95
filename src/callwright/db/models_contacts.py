"""Contact lists (an uploaded CSV, Ringg's ``bulk_list_id``) and their contacts.

A list moves ``verifying`` (created, file not yet read) → ``processing`` (rows being stored)
→ ``completed`` or ``failed``; ``uploaded`` is for callers that store the file first and import
it later. Deleting a list is soft (the row stays for history) and removes its contacts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from callwright.db.models import ID, Base
from callwright.db.types import JSONType, UTCDateTime, utcnow

LIST_STATUSES = ("verifying", "uploaded", "processing", "completed", "failed")

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigID = BigInteger().with_variant(Integer(), "sqlite")


class ContactList(Base):
    __tablename__ = "contact_lists"
    __table_args__ = (Index("ix_contact_lists_ws_created", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(String(200))
    agent_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    # {"<agent variable>": "<CSV header>"}
    variables_map: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    country_code: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="verifying")
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    successful_rows: Mapped[int] = mapped_column(Integer, default=0)
    failed_rows: Mapped[int] = mapped_column(Integer, default=0)
    # Where the CSV of rejected rows was written (served as ``invalidated_rows_csv_url``).
    invalid_rows_path: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Contact(Base):
    """One callee of a list. ``row_number`` is the CSV row (header = row 1)."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("list_id", "mobile_number", name="uq_contacts_list_number"),
        Index("ix_contacts_list_id", "list_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    list_id: Mapped[str] = mapped_column(ForeignKey("contact_lists.id"))
    workspace_id: Mapped[str] = mapped_column(ID)
    row_number: Mapped[int] = mapped_column(Integer)
    mobile_number: Mapped[str] = mapped_column(String(20))
    callee_name: Mapped[str] = mapped_column(Text, default="")
    variables: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
