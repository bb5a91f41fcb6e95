"""An in-memory JobRunner for fast tests: same contract as the DBOS adapter, no durability.

Each job is an asyncio task owned by the runner: it sleeps until ``not_before``, waits for
a slot in its queue (global and per-partition caps and rate limits are honoured), then
runs the handler. Steps retry per their policy but are not recorded, so nothing
survives the process. ``async with MemoryJobRunner(registry=...)`` cancels every task on exit.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

from callwright.jobs.port import JobError, JobSpec, JobStatus, QueueSpec, RateLimit, RetryPolicy
from callwright.jobs.registry import JobRegistry

T = TypeVar("T")


class _MemoryJobContext:
    def __init__(self, key: str, inbox: _Inbox) -> None:
        self._key = key
        self._inbox = inbox

    @property
    def key(self) -> str:
        return self._key

    async def step(
        self, name: str, fn: Callable[[], Awaitable[T]], *, retry: RetryPolicy | None = None
    ) -> T:
        policy = retry or RetryPolicy(max_attempts=1)
        wait_s = policy.interval_s
        for attempt in range(1, policy.max_attempts + 1):
            try:
                return await fn()
            except Exception:
                if attempt == policy.max_attempts:
                    raise
                await asyncio.sleep(wait_s)
                wait_s *= policy.backoff_rate
        raise AssertionError("unreachable")

    async def sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(max(0.0, (when - datetime.now(UTC)).total_seconds()))

    async def wait_signal(self, topic: str, *, timeout_s: float) -> Mapping[str, Any] | None:
        try:
            return await asyncio.wait_for(self._inbox.topic(topic).get(), timeout_s)
        except TimeoutError:
            return None


class _Inbox:
    """One job's signals by topic, with the dedupe keys already seen."""

    def __init__(self) -> None:
        self._topics: dict[str, asyncio.Queue[Mapping[str, Any]]] = {}
        self.seen: set[str] = set()

    def topic(self, name: str) -> asyncio.Queue[Mapping[str, Any]]:
        return self._topics.setdefault(name, asyncio.Queue())


@dataclass(slots=True)
class _Entry:
    job: JobSpec
    status: JobStatus
    task: asyncio.Task[None] | None = None
    error: BaseException | None = None
    inbox: _Inbox = field(default_factory=_Inbox)


class MemoryJobRunner:
    """JobRunner fake. ``error(key)`` exposes a failed handler's exception to tests."""

    def __init__(self, *, registry: JobRegistry) -> None:
        self._registry = registry
        self._jobs: dict[str, _Entry] = {}
        self._queue_slots: dict[str, asyncio.Semaphore] = {}
        self._partition_slots: dict[tuple[str, str], asyncio.Semaphore] = {}
        self._starts: dict[tuple[str, str | None], deque[float]] = {}

    async def __aenter__(self) -> MemoryJobRunner:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tasks = [e.task for e in self._jobs.values() if e.task is not None and not e.task.done()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def enqueue(self, job: JobSpec) -> None:
        queue = self._registry.check(job)
        if job.key in self._jobs:
            return
        delayed = job.not_before is not None and job.not_before > datetime.now(UTC)
        entry = _Entry(job=job, status=JobStatus.SCHEDULED if delayed else JobStatus.QUEUED)
        self._jobs[job.key] = entry
        entry.task = asyncio.create_task(self._run(entry, queue), name=f"job:{job.key}")

    async def cancel(self, key: str) -> None:
        entry = self._jobs.get(key)
        if entry is None or entry.status.is_terminal:
            return
        entry.status = JobStatus.CANCELLED
        if entry.task is not None:
            entry.task.cancel()

    async def status(self, key: str) -> JobStatus | None:
        entry = self._jobs.get(key)
        return None if entry is None else entry.status

    async def signal(
        self, key: str, topic: str, data: Mapping[str, Any], *, dedupe_key: str | None = None
    ) -> None:
        entry = self._jobs.get(key)
        if entry is None:
            raise JobError(f"signal to unknown job {key!r}")
        if dedupe_key is not None:
            if dedupe_key in entry.inbox.seen:
                return
            entry.inbox.seen.add(dedupe_key)
        entry.inbox.topic(topic).put_nowait(dict(data))

    def error(self, key: str) -> BaseException | None:
        entry = self._jobs.get(key)
        return None if entry is None else entry.error

    async def wait_idle(self) -> None:
        """Wait until every job enqueued so far (and any they enqueue) has finished."""
        while True:
            tasks = [e.task for e in self._jobs.values() if e.task and not e.task.done()]
            if not tasks:
                return
            await asyncio.gather(*tasks, return_exceptions=True)

    def _slots(self, queue: QueueSpec, partition: str | None) -> list[asyncio.Semaphore]:
        slots: list[asyncio.Semaphore] = []
        cap = min(
            (c for c in (queue.concurrency, queue.worker_concurrency) if c is not None),
            default=None,
        )
        if cap is not None:
            slots.append(self._queue_slots.setdefault(queue.name, asyncio.Semaphore(cap)))
        if partition is not None and queue.partition_concurrency is not None:
            slots.append(
                self._partition_slots.setdefault(
                    (queue.name, partition), asyncio.Semaphore(queue.partition_concurrency)
                )
            )
        return slots

    async def _admit(self, queue: QueueSpec, partition: str | None) -> None:
        """Wait until starting now keeps within the queue's and the partition's rates."""
        limits: list[tuple[tuple[str, str | None], RateLimit | None]] = [
            ((queue.name, None), queue.rate)
        ]
        if partition is not None:
            limits.append(((queue.name, partition), queue.partition_rate))
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            wait_s = 0.0
            for key, rate in limits:
                if rate is None:
                    continue
                starts = self._starts.setdefault(key, deque())
                while starts and starts[0] <= now - rate.period_s:
                    starts.popleft()
                if len(starts) >= rate.limit:
                    wait_s = max(wait_s, starts[0] + rate.period_s - now)
            if wait_s <= 0:
                for key, rate in limits:
                    if rate is not None:
                        self._starts[key].append(now)
                return
            await asyncio.sleep(wait_s)

    async def _run(self, entry: _Entry, queue: QueueSpec) -> None:
        job = entry.job
        try:
            if job.not_before is not None:
                await asyncio.sleep(max(0.0, (job.not_before - datetime.now(UTC)).total_seconds()))
            entry.status = JobStatus.QUEUED
            held: list[asyncio.Semaphore] = []
            try:
                for slot in self._slots(queue, job.partition):
                    await slot.acquire()
                    held.append(slot)
                await self._admit(queue, job.partition)
                entry.status = JobStatus.RUNNING
                handler = self._registry.handler(job.kind)
                await handler(_MemoryJobContext(job.key, entry.inbox), job.payload)
            finally:
                for slot in held:
                    slot.release()
            entry.status = JobStatus.SUCCEEDED
        except asyncio.CancelledError:
            entry.status = JobStatus.CANCELLED
            raise
        except Exception as e:  # a failed handler fails its job, never the runner
            entry.status = JobStatus.FAILED
            entry.error = e
