"""The :class:`~callwright.jobs.port.JobContext` a DBOS workflow hands its handler: steps,
durable sleep and signals, recorded by DBOS so a re-run replays them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from dbos import DBOS, StepOptions

from callwright.jobs.port import RetryPolicy

T = TypeVar("T")


class DbosJobContext:
    """JobContext over DBOS steps and durable sleep (valid only inside the workflow)."""

    def __init__(self, key: str) -> None:
        self._key = key

    @property
    def key(self) -> str:
        return self._key

    async def step(
        self, name: str, fn: Callable[[], Awaitable[T]], *, retry: RetryPolicy | None = None
    ) -> T:
        options: StepOptions = {"name": name}
        if retry is not None:
            options["retries_allowed"] = True
            options["max_attempts"] = retry.max_attempts
            options["interval_seconds"] = retry.interval_s
            options["backoff_rate"] = retry.backoff_rate

        # A coroutine *function*, so DBOS awaits it (it inspects the callable, and a
        # lambda returning a coroutine would be taken for a plain function).
        async def call() -> T:
            return await fn()

        result: T = await DBOS.run_step_async(options, call)
        return result

    async def sleep_until(self, when: datetime) -> None:
        # Never skip the call: a skipped sleep consumes no step id, and a replay that
        # did sleep would then misnumber every later step. DBOS replays the recorded
        # wake-up time, so the seconds passed only matter the first time.
        seconds = (when - datetime.now(UTC)).total_seconds()
        await DBOS.sleep_async(max(seconds, 0.001))

    async def wait_signal(self, topic: str, *, timeout_s: float) -> Mapping[str, Any] | None:
        data: Mapping[str, Any] | None = await DBOS.recv_async(topic, timeout_seconds=timeout_s)
        return data
