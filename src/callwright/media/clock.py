"""One 20 ms media clock for the whole process.

Every active call registers a :class:`TickSink`; on each tick the clock calls every sink
once, in one pass, so N calls cost one timer wake-up per 20 ms instead of N sleeping tasks.
Ticks follow an absolute schedule (``t0 + k * period`` on ``time.monotonic``): a late tick
never shifts the ones after it, and a stalled loop catches up tick by tick.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from callwright.providers.base import FRAME_MS

log = logging.getLogger(__name__)

MAX_CATCH_UP_TICKS = 10  # after a longer stall, skip ahead instead of bursting


class TickSink(Protocol):
    def on_tick(self, now_s: float, scheduled_s: float) -> None:
        """Called once per tick; must not block. ``scheduled_s`` is the tick's ideal time."""
        ...

    def on_tick_error(self, exc: BaseException) -> None:
        """The sink raised in ``on_tick`` and was detached; end the call."""
        ...


class MediaClock:
    """Process-wide frame clock. Use :meth:`running` to own its task."""

    def __init__(self, *, period_ms: int = FRAME_MS) -> None:
        self.period_s = period_ms / 1000.0
        self._sinks: dict[int, TickSink] = {}
        self.scheduled_s = 0.0  # ideal time of the tick being dispatched
        self.in_tick = False  # True while sinks run (a send now is on the clock's schedule)
        self.ticks = 0
        self.skipped_ticks = 0

    def attach(self, sink: TickSink) -> None:
        self._sinks[id(sink)] = sink

    def detach(self, sink: TickSink) -> None:
        self._sinks.pop(id(sink), None)

    @property
    def sinks(self) -> int:
        return len(self._sinks)

    async def run(self) -> None:
        """Tick forever (until cancelled)."""
        period = self.period_s
        t0 = time.monotonic()
        k = 0
        while True:
            k += 1
            ideal = t0 + k * period
            delay = ideal - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif -delay > MAX_CATCH_UP_TICKS * period:
                behind = int(-delay / period)
                self.skipped_ticks += behind
                k += behind
                ideal = t0 + k * period
            self.scheduled_s = ideal
            self.ticks += 1
            now = time.monotonic()
            self.in_tick = True
            for key, sink in list(self._sinks.items()):
                try:
                    sink.on_tick(now, ideal)
                except Exception as exc:  # one broken call must not stop the others
                    log.exception("media clock sink failed; detaching it")
                    self._sinks.pop(key, None)
                    sink.on_tick_error(exc)
            self.in_tick = False

    @classmethod
    @asynccontextmanager
    async def running(cls, *, period_ms: int = FRAME_MS) -> AsyncIterator[MediaClock]:
        """A clock whose tick task lives exactly as long as the ``async with`` block."""
        clock = cls(period_ms=period_ms)
        task = asyncio.create_task(clock.run(), name="media-clock")
        try:
            yield clock
        finally:
            task.cancel()
            await asyncio.wait([task])  # let it finish; our own cancellation still propagates
