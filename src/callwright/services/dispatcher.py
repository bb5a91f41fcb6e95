"""Hands due calls to the job queue, at the pace the workers take them.

Creating a call only writes its row (hundreds per second); the row is the schedule. This
loop claims calls whose ``due_at`` has come (schedule, calling window, retry delay) with a
conditional UPDATE, so each attempt is handed over once even with many processes, and
enqueues their jobs. Claims respect every concurrency cap (services/capacity.py) and keep
about ``backlog`` calls ahead of the workers instead of flooding the engine.

Every ``stale_after_s`` it also re-enqueues the jobs of calls handed over that long ago and
still unclaimed: a process that died between a claim's commit and its enqueue (or a pacer
step whose claim committed just before its worker died) leaves such calls behind, and no one
else would ever dial them (services/recovery.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from callwright.db.unit_of_work import SessionFactory
from callwright.services.capacity import Scope, claim_due
from callwright.services.dialing import Enqueue
from callwright.services.recovery import requeue_stale_dispatches

log = logging.getLogger(__name__)


class Dispatcher:
    """Hands over due individual calls (campaign calls have their own pacers)."""

    def __init__(
        self,
        *,
        uow: SessionFactory,
        enqueue: Enqueue,
        backlog: int,
        workspace_default_cap: int,
        interval_s: float = 1.0,
        stale_after_s: float = 30.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._uow = uow
        self._enqueue = enqueue
        self._backlog = backlog
        self._workspace_default_cap = workspace_default_cap
        self._interval_s = interval_s
        self._stale_after_s = stale_after_s
        self._now = now
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look now rather than at the next tick (a call was just created)."""
        self._wake.set()

    async def run(self) -> None:
        """Dispatch until cancelled. A failed round is logged and retried on the next tick."""
        next_sweep = time.monotonic() + self._stale_after_s
        while True:
            try:
                while await self.dispatch_once():
                    pass
                if self._stale_after_s and time.monotonic() >= next_sweep:
                    await self.requeue_stale_once()
                    next_sweep = time.monotonic() + self._stale_after_s
            except Exception:
                log.exception("dispatching calls failed; retrying")
            with contextlib.suppress(TimeoutError):  # not wait_for: see WebhookRelay.run
                async with asyncio.timeout(self._interval_s):
                    await self._wake.wait()
            self._wake.clear()

    async def dispatch_once(self) -> int:
        """Claim and enqueue the due calls that fit under every cap; returns how many."""
        async with self._uow.begin() as session:
            claimed = await claim_due(
                session,
                scope=Scope(campaign_id=None),
                now=self._now(),
                backlog=self._backlog,
                workspace_default_cap=self._workspace_default_cap,
            )
        for c in claimed:
            await self._enqueue(c.job())
        return len(claimed)

    async def requeue_stale_once(self) -> int:
        """Re-enqueue the jobs of calls handed over ``stale_after_s`` ago and still unclaimed."""
        before = self._now() - timedelta(seconds=self._stale_after_s)
        count = await requeue_stale_dispatches(self._uow, self._enqueue, dispatched_before=before)
        if count:
            log.debug("enqueued the jobs of %d calls handed over and unclaimed", count)
        return count
