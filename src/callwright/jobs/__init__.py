"""Durable jobs: the port (:mod:`.port`), the handler registry, the DBOS adapter
(:mod:`.dbos_runner`, imported explicitly by the composition root so that importing this
package does not import DBOS) and the in-memory fake (:mod:`.memory`)."""

from callwright.jobs.memory import MemoryJobRunner
from callwright.jobs.port import (
    DEFAULT_QUEUE,
    Handler,
    JobContext,
    JobError,
    JobRunner,
    JobSignals,
    JobSpec,
    JobSpecError,
    JobStatus,
    QueueSpec,
    RateLimit,
    RetryPolicy,
)
from callwright.jobs.registry import JobRegistry

__all__ = [
    "DEFAULT_QUEUE",
    "Handler",
    "JobContext",
    "JobError",
    "JobRegistry",
    "JobRunner",
    "JobSignals",
    "JobSpec",
    "JobSpecError",
    "JobStatus",
    "MemoryJobRunner",
    "QueueSpec",
    "RateLimit",
    "RetryPolicy",
]
