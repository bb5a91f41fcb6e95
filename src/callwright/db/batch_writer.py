"""Group commit: writes that arrive together share one transaction.

Under load, a transaction per request spends most of its time on what every transaction
pays once: taking SQLite's write lock (or, on PostgreSQL, the round trips of BEGIN and
COMMIT and the wait on a hot row lock), and the commit. ``BatchWriter.submit(work)`` queues
``work``; one drain task runs everything queued in a single transaction, and each caller
still gets its own result or error.

There is no timer: the first write of a quiet moment runs at once, and writes arriving
while a transaction is open form the next batch, so batches grow only with the load.

Contract for ``work(session)``: it may raise a :class:`DomainError` (a refusal, e.g.
insufficient credits) only *before* it changes anything; that item fails and the batch
goes on. Any other exception rolls the whole batch back and each item runs again alone, in
its own transaction, so one bad item cannot fail the others (and an error raised at flush
time reaches the item that caused it). Hence ``work`` may run twice: it must build its rows
afresh on each run.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.unit_of_work import SessionFactory
from callwright.domain.errors import DomainError

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[T]]


@dataclass(slots=True)
class _Item(Generic[T]):
    work: Work[T]
    done: asyncio.Future[T]


class BatchWriter:
    def __init__(self, uow: SessionFactory, *, max_batch: int = 64) -> None:
        self._uow = uow
        self._max_batch = max_batch
        self._pending: list[_Item[Any]] = []
        self._drain_task: asyncio.Task[None] | None = None

    async def submit(self, work: Work[T]) -> T:
        """Run ``work`` in a write transaction shared with concurrent submissions; return its
        result once that transaction committed."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append(_Item(work, done))
        if self._drain_task is None:
            self._drain_task = asyncio.create_task(self._drain(), name="batch-writer")
        return await done

    async def _drain(self) -> None:
        try:
            await asyncio.sleep(0)  # let the requests already runnable join the first batch
            while self._pending:
                batch = [i for i in self._pending[: self._max_batch] if not i.done.done()]
                del self._pending[: self._max_batch]
                if batch:
                    await self._run(batch)
        except BaseException:
            for item in self._pending:
                item.done.cancel()
            self._pending.clear()
            raise
        finally:
            self._drain_task = None

    async def _run(self, batch: list[_Item[Any]]) -> None:
        outcomes: list[tuple[_Item[Any], Any, DomainError | None]] = []
        try:
            async with self._uow.begin() as session:
                for item in batch:
                    try:
                        outcomes.append((item, await item.work(session), None))
                    except DomainError as refused:
                        outcomes.append((item, None, refused))
        except asyncio.CancelledError:
            for item in batch:
                item.done.cancel()
            raise
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0].done, error=exc)
                return
            for item in batch:  # find the culprit: each item alone
                await self._run([item])
            return
        for item, value, error in outcomes:
            _settle(item.done, value=value, error=error)


def _settle(
    done: asyncio.Future[Any], *, value: Any = None, error: Exception | None = None
) -> None:
    if done.done():  # the caller went away
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(value)


_writers: weakref.WeakKeyDictionary[SessionFactory, BatchWriter] = weakref.WeakKeyDictionary()


def batch_writer(uow: SessionFactory) -> BatchWriter:
    """The process's batch writer for ``uow``'s database."""
    writer = _writers.get(uow)
    if writer is None:
        writer = _writers[uow] = BatchWriter(uow)
    return writer
