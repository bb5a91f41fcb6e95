"""Hands due calls to the job queue, at the pace the workers take them.

Creating a call only writes its row (hundreds per second); the row is the schedule. This
loop claims calls whose ``due_at`` has come (schedule, calling window, retry delay) with a
conditional UPDATE, so each attempt is handed over once even with many processes, and
enqueues their jobs. It keeps about ``backlog`` attempts ahead of the workers instead of
flooding the engine with every queued call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from callwright.db.models import Call
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.call import TERMINABLE
from callwright.services.calls import call_job
from callwright.services.dialing import Enqueue

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        *,
        uow: SessionFactory,
        enqueue: Enqueue,
        backlog: int,
        interval_s: float = 1.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._uow = uow
        self._enqueue = enqueue
        self._backlog = backlog
        self._interval_s = interval_s
        self._now = now
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look now rather than at the next tick (a call was just created)."""
        self._wake.set()

    async def run(self) -> None:
        """Dispatch until cancelled. A failed round is logged and retried on the next tick."""
        while True:
            try:
                while await self.dispatch_once():
                    pass
            except Exception:
                log.exception("dispatching calls failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._interval_s)
            except TimeoutError:
                pass
            self._wake.clear()

    async def dispatch_once(self) -> int:
        """Claim and enqueue the due calls that fit in the backlog; returns how many."""
        now = self._now()
        async with self._uow.begin() as session:
            in_flight = await session.scalar(
                select(func.count())
                .select_from(Call)
                .where(Call.status.in_(TERMINABLE), Call.dispatched_at.is_not(None))
            )
            room = self._backlog - int(in_flight or 0)
            if room <= 0:
                return 0
            due = (
                select(Call.id)
                .where(
                    Call.status.in_(TERMINABLE),
                    Call.dispatched_at.is_(None),
                    Call.due_at <= now,
                )
                .order_by(Call.due_at)
                .limit(room)
            )
            rows = (
                await session.execute(
                    update(Call)
                    .where(Call.id.in_(due.scalar_subquery()), Call.dispatched_at.is_(None))
                    .values(dispatched_at=now)
                    .returning(Call.id, Call.workspace_id, Call.retry_count),
                    execution_options={"synchronize_session": False},
                )
            ).all()
        for row in rows:
            await self._enqueue(call_job(row.id, row.workspace_id, attempt=row.retry_count))
        return len(rows)
