"""Contact-import tests: the parser on its own, and the repository and service on a migrated
database (SQLite and PostgreSQL through the root ``database_url`` fixture)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence

import pytest

from callwright.db.engine import create_engine
from callwright.db.migrate import upgrade
from callwright.db.unit_of_work import UnitOfWork
from callwright.settings import Settings


def csv_bytes(
    rows: Iterable[Sequence[str]], *, encoding: str = "utf-8", newline: str = "\r\n"
) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.fixture
async def uow(database_url: str) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(Settings(database_url=database_url).resolved_database_url())
    await upgrade(engine)
    yield UnitOfWork(engine)
    await engine.dispose()
