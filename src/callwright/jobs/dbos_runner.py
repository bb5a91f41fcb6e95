"""The DBOS Transact adapter of the jobs port (dbos 3.4.x).

One DBOS workflow, ``callwright.job(kind, key, payload)``, dispatches to the handler
registered for ``kind``; the job key is the workflow id, so enqueueing a key twice
attaches to the existing workflow. Queues are DBOS database-backed queues (global,
per-worker and per-partition caps). ``not_before`` becomes DBOS's durable
``delay_seconds``; ``JobContext.step`` is a DBOS step; ``sleep_until`` is ``DBOS.sleep``.

The system database is a SQLite file (embedded, one process) or PostgreSQL (many
``callwright worker`` processes on many machines sharing it). Each process needs a
*stable* ``executor_id`` (hostname, StatefulSet ordinal): on start DBOS recovers the
PENDING workflows recorded under that id; the :class:`RecoverySupervisor` recovers those
of executors that stay silent.

Nothing happens until :meth:`DbosJobRunner.__aenter__`: the workflow is registered with
DBOS there, and DBOS is launched on the running event loop, so handlers run as tasks on
the application's loop (they may use its connection pools). DBOS is a process-wide
singleton: one runner per process at a time.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TypeVar

import dbos._dbos as dbos_internal
from dbos import DBOS, DBOSConfig, EnqueueOptions
from dbos._error import DBOSException
from sqlalchemy.exc import SQLAlchemyError

from callwright.jobs.dbos_context import DbosJobContext
from callwright.jobs.dbos_system import (
    DbosJobsConfig,
    prepare_system_database,
    sqlite_connection,
    sqlite_file,
)
from callwright.jobs.port import Handler, JobError, JobSpec, JobStatus
from callwright.jobs.registry import JobRegistry
from callwright.jobs.supervisor import ExecutorHeartbeats, RecoverySupervisor

T = TypeVar("T")
log = logging.getLogger(__name__)

WORKFLOW_NAME = "callwright.job"
# What the engine may raise at our boundary: its own errors and database failures.
_ENGINE_ERRORS = (DBOSException, SQLAlchemyError)

_STATUS = {
    "DELAYED": JobStatus.SCHEDULED,
    "ENQUEUED": JobStatus.QUEUED,
    "PENDING": JobStatus.RUNNING,
    "SUCCESS": JobStatus.SUCCEEDED,
    "ERROR": JobStatus.FAILED,
    "MAX_RECOVERY_ATTEMPTS_EXCEEDED": JobStatus.FAILED,
    "CANCELLED": JobStatus.CANCELLED,
}


def _register_workflow(registry: JobRegistry, home: asyncio.AbstractEventLoop) -> None:
    """Register the one dispatching workflow with DBOS, closing over ``registry``.
    Called at launch, never at import; recovery finds it by its fixed name.

    Handlers always run on ``home``, the loop DBOS was launched on. DBOS starts a workflow
    on a background loop of its own whenever that loop is not running at the instant
    (pytest-asyncio stops its loop between a fixture and the test), and our handlers use
    connections bound to the home loop: driven from a second thread they corrupt memory
    (asyncpg segfaulted). The workflow's context travels with the hop, so steps record
    as usual."""

    async def run_job(kind: str, key: str, payload: dict[str, Any]) -> None:
        async def job() -> None:
            await registry.handler(kind)(DbosJobContext(key), payload)

        if asyncio.get_running_loop() is home:
            await job()
            return
        work = job()
        try:
            future = asyncio.run_coroutine_threadsafe(work, home)
        except RuntimeError:  # the home loop is closed: leave the job PENDING for recovery
            work.close()
            raise asyncio.CancelledError from None
        await asyncio.wrap_future(future)

    DBOS.workflow(name=WORKFLOW_NAME)(run_job)


class DbosJobRunner:
    """JobRunner on DBOS. Use as ``async with runner:`` inside the app lifespan or the
    worker command; it launches DBOS, declares the queues, starts the heartbeat and
    recovery supervisor. On exit it stops dequeuing, cancels running handlers, hands their
    jobs back to their queues (another worker, or this one on its next start, resumes them
    from their last completed step) and shuts DBOS down.

    Inside a handler, ``enqueue``/``status``/``cancel`` are recorded as steps of the
    calling job, so a re-run does not enqueue twice (and sees the recorded status)."""

    def __init__(self, *, config: DbosJobsConfig, registry: JobRegistry) -> None:
        self._config = config
        self._registry = registry
        self._supervisor_task: asyncio.Task[None] | None = None
        self._heartbeats: ExecutorHeartbeats | None = None
        self._supervisor: RecoverySupervisor | None = None
        self._loop_executor: Any = None
        self._started = False
        self._owns_dbos = False

    @property
    def executor_id(self) -> str:
        return self._config.executor_id

    @property
    def supervisor(self) -> RecoverySupervisor:
        if self._supervisor is None:
            raise JobError("the job runner is not started")
        return self._supervisor

    async def __aenter__(self) -> DbosJobRunner:
        if getattr(dbos_internal, "_dbos_global_instance", None) is not None:
            raise JobError("a DBOS instance already runs in this process; one runner only")
        cfg = self._config
        loop = asyncio.get_running_loop()
        # DBOS replaces the loop's default executor with its own pool; remember ours.
        self._loop_executor = getattr(loop, "_default_executor", None)
        _register_workflow(self._registry, loop)
        dbos_config: DBOSConfig = {
            "name": cfg.app_name,
            "system_database_url": cfg.system_database_url,
            "executor_id": cfg.executor_id,
            "application_version": cfg.application_version,
            "log_level": cfg.log_level,
            "dbos_system_schema": cfg.system_schema,
        }
        sqlite_path = sqlite_file(cfg.system_database_url)
        if sqlite_path is not None:
            # DBOS's ping before each checkout stays on SQLite: without it the dialer bench
            # measured slower there (57.8-61.6 against 49.6-52.9 ms of CPU per call).
            dbos_config["db_engine_kwargs"] = {
                "creator": functools.partial(sqlite_connection, sqlite_path)
            }
        else:
            # On PostgreSQL the ping is a round trip on each of the several system-database
            # calls a step makes (dialer bench: 53.8-57.5 against 60.2-66.2 ms of CPU per
            # call), and DBOS already retries a call whose connection turns out dead.
            dbos_config["db_engine_kwargs"] = {"pool_pre_ping": False}
        try:
            # Migrate and declare the queues before launch, so DBOS's queue manager finds
            # them on its first pass (a queue declared after launch waits ~1 s for it).
            await asyncio.to_thread(prepare_system_database, cfg, self._registry)
            DBOS(config=dbos_config)
            self._owns_dbos = True
            if cfg.listen_queues is not None:
                DBOS.listen_queues(list(cfg.listen_queues))
            # Launch on the loop's own thread (it blocks briefly): DBOS then runs dequeued
            # async workflows as tasks on this loop.
            DBOS.launch()
            # Recovered workflows start as soon as this task yields, and may enqueue (a pacer
            # handing calls over): the runner is usable from here on.
            self._started = True
            self._heartbeats = ExecutorHeartbeats(
                system_database_url=cfg.system_database_url, schema=cfg.system_schema
            )
            await asyncio.to_thread(self._heartbeats.create_table)
            self._supervisor = RecoverySupervisor(
                heartbeats=self._heartbeats,
                executor_id=cfg.executor_id,
                recover=self._recover_executor,
                interval_s=cfg.heartbeat_interval_s,
                silence_s=cfg.executor_silence_s,
            )
            await self._supervisor.sweep_once()
        except BaseException:
            await self._shutdown()
            raise
        self._supervisor_task = asyncio.create_task(
            self._supervisor.run(), name=f"jobs-supervisor-{cfg.executor_id}"
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._shutdown()

    async def enqueue(self, job: JobSpec) -> None:
        self._check_started()
        queue = self._registry.check(job)
        options: EnqueueOptions = {
            "workflow_name": WORKFLOW_NAME,
            "queue_name": queue.name,
            "workflow_id": job.key,
            "app_version": self._config.application_version,
        }
        if job.partition is not None:
            options["queue_partition_key"] = job.partition
        if job.not_before is not None:
            delay_s = (job.not_before - datetime.now(UTC)).total_seconds()
            if delay_s > 0:
                options["delay_seconds"] = delay_s
        try:
            await DBOS.enqueue_workflow_with_options_async(
                options, job.kind, job.key, dict(job.payload)
            )
        except _ENGINE_ERRORS as e:
            raise JobError(f"enqueue of {job.key!r} failed: {e}") from e

    async def cancel(self, key: str) -> None:
        self._check_started()
        try:
            await DBOS.cancel_workflow_async(key)
        except _ENGINE_ERRORS as e:
            raise JobError(f"cancel of {key!r} failed: {e}") from e

    async def status(self, key: str) -> JobStatus | None:
        self._check_started()
        try:
            st = await DBOS.get_workflow_status_async(key)
        except _ENGINE_ERRORS as e:
            raise JobError(f"status of {key!r} failed: {e}") from e
        return None if st is None else _STATUS[st.status]

    async def signal(
        self, key: str, topic: str, data: Mapping[str, Any], *, dedupe_key: str | None = None
    ) -> None:
        self._check_started()
        try:
            await DBOS.send_async(key, dict(data), topic, idempotency_key=dedupe_key)
        except _ENGINE_ERRORS as e:
            raise JobError(f"signal to {key!r} failed: {e}") from e

    async def _recover_executor(self, executor_id: str) -> int:
        handles = await asyncio.to_thread(DBOS._recover_pending_workflows, [executor_id])
        return len(handles)

    def _check_started(self) -> None:
        if not self._started:
            raise JobError("the job runner is not started (use `async with runner:`)")

    async def _shutdown(self) -> None:
        was_started, self._started = self._started, False
        if self._supervisor_task is not None:
            self._supervisor_task.cancel()
            await asyncio.gather(self._supervisor_task, return_exceptions=True)
            self._supervisor_task = None
        instance = getattr(dbos_internal, "_dbos_global_instance", None)
        if instance is not None and self._owns_dbos:
            self._owns_dbos = False
            # Stop dequeuing first, so no new handler starts while we cancel the running
            # ones. A cancelled handler's workflow stays PENDING under our executor id.
            for event in instance.background_thread_stop_events:
                event.set()
            await _cancel_all(instance._workflow_tasks)
            # A dequeue in flight may still hand us a task: let the queue threads end.
            await asyncio.to_thread(_join_queue_workers, timeout_s=10.0)
            await _cancel_all(instance._workflow_tasks)
            if was_started:
                # Hand our PENDING jobs back to their queues now, so other workers take
                # them at once instead of after the silence period (graceful scale-down).
                try:
                    await asyncio.to_thread(
                        DBOS._recover_pending_workflows, [self._config.executor_id]
                    )
                except Exception:
                    log.exception("handing back pending jobs failed; the supervisor will")
            with ThreadPoolExecutor(max_workers=1) as pool:
                await asyncio.get_running_loop().run_in_executor(
                    pool, lambda: DBOS.destroy(destroy_registry=True)
                )
            await _cancel_all(instance._workflow_tasks)
        if self._heartbeats is not None:
            self._heartbeats.close()
            self._heartbeats = None
        loop = asyncio.get_running_loop()
        # DBOS's pool is shut down now; give the loop a working default executor back.
        loop.set_default_executor(self._loop_executor or ThreadPoolExecutor())


def _join_queue_workers(*, timeout_s: float) -> None:
    """Wait for DBOS's queue worker threads (named ``queue-worker-*``) to exit."""
    deadline = time.monotonic() + timeout_s
    for thread in threading.enumerate():
        if not thread.name.startswith("queue-worker-"):
            continue
        while True:
            try:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
                break
            except RuntimeError:
                # Listed while DBOS is still starting it (join refuses until it has begun):
                # it sees the stop event as soon as it runs.
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.01)


async def _cancel_all(tasks: set[asyncio.Task[Any]]) -> None:
    loop = asyncio.get_running_loop()
    ours: list[asyncio.Task[Any]] = []
    for t in [t for t in list(tasks) if not t.done()]:
        if t.get_loop() is loop:
            t.cancel()
            ours.append(t)
        else:  # started by DBOS on its own loop thread (a recovery run from a thread)
            t.get_loop().call_soon_threadsafe(t.cancel)
    await asyncio.gather(*ours, return_exceptions=True)


def build_dbos_runner(
    *,
    config: DbosJobsConfig,
    handlers: Mapping[str, Handler] | None = None,
    registry: JobRegistry | None = None,
) -> DbosJobRunner:
    """Build (do not start) the DBOS runner from a registry. ``handlers`` is a shortcut
    for a registry holding only those handlers on the default queue."""
    reg = registry if registry is not None else JobRegistry()
    for kind, handler in (handlers or {}).items():
        reg.add_handler(kind, handler)
    return DbosJobRunner(config=config, registry=reg)
