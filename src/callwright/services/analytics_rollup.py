"""The analytics roll-up loop: adds finished calls to ``call_rollups`` in the background.

Every process may run one; on PostgreSQL they take turns (see ``roll_up``). Reads never wait
for it: a call not rolled up yet is read from ``calls``, so the loop only decides how fast the
analytics endpoints are, never what they say.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from callwright.db.repositories.analytics_rollup import roll_up
from callwright.db.unit_of_work import SessionFactory

log = logging.getLogger(__name__)


@dataclass
class AnalyticsRollup:
    """Rolls up batches of final calls until none is left, then polls every ``interval_s``.

    ``batch`` bounds one transaction (and, on SQLite, how long it holds the process's write
    turn).
    """

    uow: SessionFactory
    interval_s: float = 5.0
    batch: int = 2000

    async def run(self) -> None:
        """Until cancelled. A failed round (the database away, a lock timeout) is logged and
        tried again after the interval: nothing is lost, the calls stay not rolled up."""
        while True:
            try:
                await self.drain()
            except Exception:
                log.exception("analytics roll-up failed; retrying in %.0f s", self.interval_s)
            await asyncio.sleep(self.interval_s)

    async def drain(self) -> int:
        """Roll up batches until one comes back short; returns how many calls were added."""
        total = 0
        while True:
            added = await self.roll_up_once()
            total += added
            if added < self.batch:
                return total

    async def roll_up_once(self) -> int:
        async with self.uow.begin() as session:
            return await roll_up(session, limit=self.batch)
