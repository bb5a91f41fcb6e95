"""A unit of work is one database transaction; services open one per use case.

``uow()`` opens a session for reading; ``uow.begin()`` opens a write transaction. On SQLite
the writes of this process take turns on an asyncio lock: SQLite allows one writer, and
waiting on a lock is far cheaper than SQLite's busy handler, which sleeps and retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


class UnitOfWork:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    def __call__(self) -> AsyncSession:
        return self._sessions()

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        if self._write_lock is None:
            async with self._sessions.begin() as session:
                yield session
            return
        async with self._write_lock, self._sessions.begin() as session:
            yield session


SessionFactory = UnitOfWork
