"""Migration 0003 creates exactly the webhook tables the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from callwright.db.engine import create_engine
from callwright.db.migrate import upgrade
from callwright.db.models import Base


async def test_models_match_migrations(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
    finally:
        await engine.dispose()
    webhook_diffs = [d for d in diff if "webhook" in repr(d)]
    assert webhook_diffs == []
