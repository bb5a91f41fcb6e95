"""Migration 0007 creates the knowledge tables the models describe, plus the per-dialect
full-text index (FTS5 table and triggers on SQLite; a generated tsvector on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from callwright.db import models_kb  # noqa: F401  (registers the tables)
from callwright.db.engine import create_engine
from callwright.db.migrate import upgrade
from callwright.db.models import Base

KB_TABLES = ("knowledge_bases", "kb_sources", "kb_chunks")


def _ours(diff: Any) -> bool:
    return any(name in repr(diff) for name in KB_TABLES) and "kb_chunks_fts" not in repr(diff)


async def test_models_match_migration_and_fts_follows_chunks(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        assert [d for d in diff if _ours(d)] == []
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO knowledge_bases VALUES ('k', 'w', 'n', 'non_deterministic', "
                    "'pending', NULL, 0, '2026-01-01', '2026-01-01')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO kb_sources (id, kb_id, workspace_id, kind, file_type, file_size, "
                    "meta, status, chunk_count, created_at) "
                    "VALUES ('s', 'k', 'w', 'faq', 'faq', 0, '{}', 'pending', 0, '2026-01-01')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO kb_chunks (kb_id, source_id, workspace_id, position, location, "
                    "text) VALUES ('k', 's', 'w', 0, '', 'Refunds take five business days')"
                )
            )
            match = "SELECT count(*) FROM kb_chunks_fts WHERE kb_chunks_fts MATCH 'refund'"
            assert (await conn.execute(text(match))).scalar() == 1  # porter: refunds ~ refund
            await conn.execute(text("UPDATE kb_chunks SET text = 'Exchanges only'"))
            assert (await conn.execute(text(match))).scalar() == 0
            await conn.execute(text("DELETE FROM kb_chunks"))
            await conn.execute(
                text("INSERT INTO kb_chunks_fts(kb_chunks_fts) VALUES ('integrity-check')")
            )
    finally:
        await engine.dispose()
