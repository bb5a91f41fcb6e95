"""The durable-jobs port: the only surface the rest of callwright sees of the job engine.

A *job* is one run of a handler (a plain ``async`` function registered by *kind* in a
:class:`~callwright.jobs.registry.JobRegistry`) under a business *key*. Keys are the
idempotency contract: enqueueing a key that already exists (queued, running or finished)
is a no-op, so callers may enqueue again after any crash without creating a second run.
Use keys such as ``call:{call_id}``, ``analysis:{call_id}``, ``wh:{event_id}:{endpoint_id}``,
``dial:{campaign}:{contact}:{attempt}``.

Delivery is *at least once*: after a crash a handler runs again from its last completed
step. Completed steps are not re-run (their recorded result is returned), but a step that
was in flight is. Side effects that must not repeat (placing a call) need the ledger
pattern: insert a unique row before the side effect, and reconcile when the insert
conflicts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar, runtime_checkable

T = TypeVar("T")


class JobError(Exception):
    """Base of every error the jobs layer raises; engine errors are translated into it."""


class JobSpecError(JobError, ValueError):
    """The job cannot be enqueued as described (unknown kind or queue, missing partition)."""


class JobStatus(StrEnum):
    """Where a job is in its life. Terminal: SUCCEEDED, FAILED, CANCELLED."""

    SCHEDULED = "scheduled"  # waiting for not_before
    QUEUED = "queued"  # due, waiting for a free slot in its queue
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # the handler raised (after its step retries)
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries of one step: ``max_attempts`` tries in all, waiting ``interval_s`` after the
    first failure and multiplying the wait by ``backoff_rate`` after each further one."""

    max_attempts: int = 3
    interval_s: float = 1.0
    backoff_rate: float = 2.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.interval_s < 0 or self.backoff_rate < 1:
            raise ValueError("RetryPolicy needs max_attempts >= 1, interval_s >= 0, backoff >= 1")


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``limit`` job starts in any rolling window of ``period_s`` seconds."""

    limit: int
    period_s: float


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """A named queue and its caps.

    ``concurrency`` caps running jobs across every worker; ``worker_concurrency`` per
    process. Setting ``partition_concurrency`` or ``partition_rate`` makes the queue
    *partitioned*: every job on it must name a ``partition`` (e.g. a workspace or trunk id),
    and the partition caps apply to each partition separately, across all workers.
    A running job holds its slot while it sleeps: do long waits before the job starts
    (``not_before``), not inside a capped queue.
    """

    name: str
    concurrency: int | None = None
    worker_concurrency: int | None = None
    partition_concurrency: int | None = None
    partition_rate: RateLimit | None = None
    rate: RateLimit | None = None
    polling_interval_s: float = 0.2

    @property
    def partitioned(self) -> bool:
        return self.partition_concurrency is not None or self.partition_rate is not None


DEFAULT_QUEUE = "default"


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One job to run. ``payload`` must be JSON-like (dicts, lists, str, numbers, bools, None)
    and is stored durably; keep it small and put large data in the app database.

    ``not_before`` (timezone-aware) delays the start durably: the job does not run before
    that instant, even across restarts. ``partition`` is required on partitioned queues.
    """

    kind: str
    key: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    queue: str = DEFAULT_QUEUE
    partition: str | None = None
    not_before: datetime | None = None

    def __post_init__(self) -> None:
        if not self.key.strip():
            raise JobSpecError("job key must not be empty")
        if self.not_before is not None and self.not_before.tzinfo is None:
            raise JobSpecError("not_before must be timezone-aware")


class JobContext(Protocol):
    """What a running handler may do besides plain code. Every durable effect goes through
    it, so that a re-run after a crash replays completed steps instead of repeating them.

    Step names must be deterministic within one job (the same handler run with the same
    payload asks for the same steps in the same order).
    """

    @property
    def key(self) -> str: ...

    async def step(
        self, name: str, fn: Callable[[], Awaitable[T]], *, retry: RetryPolicy | None = None
    ) -> T:
        """Run ``fn`` once and record its result; on re-run return the recorded result.
        With ``retry`` an exception is retried per the policy; the last one propagates.
        The result must be picklable."""
        ...

    async def sleep_until(self, when: datetime) -> None:
        """Sleep durably until ``when`` (timezone-aware); a restart does not reset the timer.
        The job keeps its queue slot while asleep."""
        ...

    async def wait_signal(self, topic: str, *, timeout_s: float) -> Mapping[str, Any] | None:
        """Durably wait for the next signal on ``topic`` sent to this job (see
        :class:`JobSignals`); None after ``timeout_s``. Signals sent earlier are kept and
        delivered in order; a re-run after a crash returns the same signal again."""
        ...


Handler = Callable[[JobContext, Mapping[str, Any]], Awaitable[None]]
"""A job handler: ``async def handle(ctx, payload) -> None``. Raising fails the job."""


@runtime_checkable
class JobRunner(Protocol):
    """Starts, cancels and reports durable jobs. Implementations: the DBOS adapter
    (:mod:`callwright.jobs.dbos_runner`) and the in-memory fake (:mod:`callwright.jobs.memory`)."""

    async def enqueue(self, job: JobSpec) -> None:
        """Durably record the job; it runs once it is due and its queue has a free slot.
        Idempotent by ``job.key``: if the key exists in any state, nothing happens.
        Raises JobSpecError for an unknown kind or queue or a missing partition."""
        ...

    async def cancel(self, key: str) -> None:
        """Cancel the job if it has not finished. A queued or scheduled job never starts; a
        running one stops at its next step. Unknown or finished keys are ignored."""
        ...

    async def status(self, key: str) -> JobStatus | None:
        """The job's status, or None if the key was never enqueued."""
        ...


@runtime_checkable
class JobSignals(Protocol):
    """Sends data to a job that waits for it (a dial job waiting for the call's final
    status, a pacer woken early when capacity frees). Both runners implement it."""

    async def signal(
        self, key: str, topic: str, data: Mapping[str, Any], *, dedupe_key: str | None = None
    ) -> None:
        """Deliver ``data`` durably to job ``key`` on ``topic``. With ``dedupe_key`` a
        repeat (a status callback delivered twice) is dropped. Raises JobError if the key
        was never enqueued."""
        ...
