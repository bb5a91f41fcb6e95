"""The explicit registry of job handlers and queues, built once by the composition root.

Nothing registers itself at import time: the composition root creates a ``JobRegistry``,
adds every handler and queue, and hands it to a runner builder. Every process that runs
jobs (API node in embedded mode, ``callwright worker``) must build the same registry, so
that a job enqueued by one process can be run or recovered by another.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from callwright.jobs.port import DEFAULT_QUEUE, Handler, JobSpec, JobSpecError, QueueSpec


class JobRegistry:
    """Handlers by kind and queues by name. The ``default`` queue always exists (uncapped)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._queues: dict[str, QueueSpec] = {DEFAULT_QUEUE: QueueSpec(name=DEFAULT_QUEUE)}

    def add_handler(self, kind: str, handler: Handler) -> None:
        """Register ``handler`` for jobs of ``kind``. A kind is registered once."""
        if not kind or kind in self._handlers:
            raise ValueError(f"job kind {kind!r} is empty or already registered")
        self._handlers[kind] = handler

    def add_queue(self, spec: QueueSpec) -> None:
        """Declare a queue (or replace the caps of ``default``)."""
        if spec.name in self._queues and spec.name != DEFAULT_QUEUE:
            raise ValueError(f"queue {spec.name!r} is already registered")
        self._queues[spec.name] = spec

    def handler(self, kind: str) -> Handler:
        try:
            return self._handlers[kind]
        except KeyError:
            raise JobSpecError(f"no handler registered for job kind {kind!r}") from None

    @property
    def queues(self) -> Mapping[str, QueueSpec]:
        return dict(self._queues)

    def kinds(self) -> Iterator[str]:
        return iter(sorted(self._handlers))

    def check(self, job: JobSpec) -> QueueSpec:
        """Validate ``job`` against the registry and return its queue; raise JobSpecError."""
        self.handler(job.kind)
        queue = self._queues.get(job.queue)
        if queue is None:
            raise JobSpecError(f"unknown queue {job.queue!r}")
        if queue.partitioned and not job.partition:
            raise JobSpecError(f"queue {job.queue!r} is partitioned: the job needs a partition")
        if not queue.partitioned and job.partition is not None:
            raise JobSpecError(f"queue {job.queue!r} is not partitioned: drop the partition")
        return queue
