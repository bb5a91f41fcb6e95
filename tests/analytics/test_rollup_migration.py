"""Migration 0008 creates what the models describe: ``call_rollups``, ``calls.rolled_up`` and
the partial indexes of the calls not rolled up, which the roll-up's queries do use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from callwright.db.engine import create_engine
from callwright.db.migrate import upgrade
from callwright.db.models import Base
from callwright.settings import Settings


def _ours(diff: Any) -> bool:
    return any(name in repr(diff) for name in ("call_rollups", "rolled_up", "unrolled", "rollup"))


async def test_models_match_migration(database_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    engine = create_engine(settings.resolved_database_url())
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
            assert [d for d in diff if _ours(d)] == []
            if engine.dialect.name == "sqlite":
                # SQLite takes a partial index only for a query that repeats its WHERE term.
                plan = await conn.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT count(*) FROM calls WHERE workspace_id = 'w' "
                        "AND created_at >= '2025' AND rolled_up = 0"
                    )
                )
                assert "ix_calls_unrolled" in str(plan.all())
    finally:
        await engine.dispose()
