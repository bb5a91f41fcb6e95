"""Knowledge-base tables: a knowledge base, its sources (files, URLs, FAQs) and their chunks.

Full-text indexes are per dialect and live only in the migration (0007): on SQLite an FTS5
table ``kb_chunks_fts`` over ``kb_chunks.text`` kept in step by triggers; on PostgreSQL a
generated ``tsv`` column with a GIN index. Queries against them are in
:mod:`callwright.db.repositories.knowledge`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callwright.db.models import ID, Base
from callwright.db.types import JSONType, UTCDateTime, utcnow


class KnowledgeBase(Base):
    """One knowledge base. ``status``: pending → processing → completed | failed.

    ``revision`` grows whenever its chunks change (cached vectors key on it);
    ``failure_reason`` names the sources that failed and why.
    """

    __tablename__ = "knowledge_bases"
    __table_args__ = (Index("ix_knowledge_bases_ws_created", "workspace_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace_id: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(String(200))
    kb_type: Mapped[str] = mapped_column(String(32), default="non_deterministic")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    failure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KnowledgeSource(Base):
    """One file, URL or FAQ of a knowledge base; ``id`` is Ringg's ``file_id``.

    ``kind``: file | url | faq. Uploaded bytes are kept in ``data`` (the worker that
    ingests them may run on another machine). ``status``: pending → processing →
    completed | failed (``error`` says why).
    """

    __tablename__ = "kb_sources"
    __table_args__ = (Index("ix_kb_sources_kb", "kb_id", "created_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kb_id: Mapped[str] = mapped_column(ForeignKey("knowledge_bases.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    content: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    file_type: Mapped[str] = mapped_column(String(100))
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    meta: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class KnowledgeChunk(Base):
    """A passage of a source: ``position`` is its order in the source, ``location`` a
    human pointer ("page 3", "FAQ"). ``embedding`` is little-endian float32 of
    ``embedding_model``, or None in lexical-only mode."""

    __tablename__ = "kb_chunks"
    __table_args__ = (
        Index("ix_kb_chunks_kb", "kb_id"),
        Index("ix_kb_chunks_source", "source_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kb_id: Mapped[str] = mapped_column(ForeignKey("knowledge_bases.id", ondelete="CASCADE"))
    source_id: Mapped[str] = mapped_column(ForeignKey("kb_sources.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(ID)
    position: Mapped[int] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    embedding_model: Mapped[str | None] = mapped_column(String(64), nullable=True)
