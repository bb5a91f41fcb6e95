"""DBOS adapter across restarts inside one process: durable delays, replayed steps, graceful
hand-back of running jobs, and the supervisor's claim rule."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jobs_testkit import make_config, psql, soon, wait_status

from callwright.jobs import JobContext, JobError, JobRegistry, JobSpec, JobStatus
from callwright.jobs.dbos_runner import DbosJobRunner
from callwright.jobs.dbos_system import DbosJobsConfig, system_database_url_for
from callwright.jobs.supervisor import ExecutorHeartbeats, RecoverySupervisor


async def test_delay_and_steps_survive_a_restart(jobs_config: DbosJobsConfig) -> None:
    calls: Counter[str] = Counter()
    started: dict[str, float] = {}
    release = asyncio.Event()

    async def handle(ctx: JobContext, payload: Mapping[str, Any]) -> None:
        started.setdefault(ctx.key, time.time())

        async def charge() -> str:
            calls[f"{ctx.key}/charge"] += 1
            return "receipt-1"

        receipt = await ctx.step("charge", charge)
        assert receipt == "receipt-1"
        await release.wait()  # first run: still here when the process stops
        await ctx.sleep_until(datetime.now(UTC) + timedelta(seconds=0.1))

        async def notify() -> None:
            calls[f"{ctx.key}/notify"] += 1

        await ctx.step("notify", notify)

    registry = JobRegistry()
    registry.add_handler("two-steps", handle)
    async with DbosJobRunner(config=jobs_config, registry=registry) as runner:
        await runner.enqueue(JobSpec(kind="two-steps", key="now"))
        await wait_status(runner, "now", {JobStatus.RUNNING})
        deadline = time.monotonic() + 10
        while not calls["now/charge"]:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        due = soon(1.5)
        await runner.enqueue(JobSpec(kind="two-steps", key="later", not_before=due))
        assert await runner.status("later") is JobStatus.SCHEDULED
    # Stopped with "now" parked after its first step and "later" not yet due.
    assert calls == {"now/charge": 1}
    assert "later" not in started
    release.set()
    async with DbosJobRunner(config=jobs_config, registry=registry) as runner:
        assert await wait_status(runner, "now", {JobStatus.SUCCEEDED}) is JobStatus.SUCCEEDED
        await wait_status(runner, "later", {JobStatus.SUCCEEDED})
    assert calls == {"now/charge": 1, "now/notify": 1, "later/charge": 1, "later/notify": 1}
    assert started["later"] >= due.timestamp() - 0.05


async def test_one_runner_per_process_and_not_started(jobs_config: DbosJobsConfig) -> None:
    runner = DbosJobRunner(config=jobs_config, registry=JobRegistry())
    with pytest.raises(JobError):
        await runner.status("x")
    async with runner:
        other = DbosJobRunner(config=jobs_config, registry=JobRegistry())
        with pytest.raises(JobError):
            await other.__aenter__()
        assert await runner.status("x") is None
    # The loop's default executor still works after DBOS has shut down its own pool.
    assert await asyncio.to_thread(lambda: 41 + 1) == 42


async def test_supervisor_claims_each_silent_executor_once(system_db_url: str) -> None:
    hb = ExecutorHeartbeats(system_database_url=system_db_url, schema=f"hb_{time.time_ns()}")
    await asyncio.to_thread(hb.create_table)
    recovered: list[tuple[str, str]] = []

    def supervisor(own: str) -> RecoverySupervisor:
        async def recover(executor_id: str) -> int:
            recovered.append((own, executor_id))
            return 0

        return RecoverySupervisor(
            heartbeats=hb, executor_id=own, recover=recover, interval_s=0.1, silence_s=0.5
        )

    tag = str(time.time_ns())
    dead, live_a, live_b = f"dead-{tag}", f"a-{tag}", f"b-{tag}"
    await asyncio.to_thread(hb.beat, dead)
    sa_, sb = supervisor(live_a), supervisor(live_b)
    await sa_.sweep_once()
    await sb.sweep_once()
    assert not [r for r in recovered if r[1] == dead]  # not silent yet
    await asyncio.sleep(0.7)
    for live in (live_a, live_b):  # both alive; only `dead` has gone quiet
        await asyncio.to_thread(hb.beat, live)
    got = await asyncio.gather(sa_.sweep_once(), sb.sweep_once())
    assert len([r for r in recovered if r[1] == dead]) == 1  # exactly one worker claimed it
    assert sum(dead in g for g in got) == 1
    # Live workers that keep beating are never claimed.
    assert not [r for r in recovered if r[1] in (live_a, live_b)]
    hb.close()


async def test_enqueue_only_node_leaves_jobs_to_workers(jobs_config: DbosJobsConfig) -> None:
    ran: list[str] = []

    async def handle(ctx: JobContext, payload: Mapping[str, Any]) -> None:
        ran.append(ctx.key)

    registry = JobRegistry()
    registry.add_handler("mark", handle)
    api_node = dataclasses.replace(jobs_config, listen_queues=())
    async with DbosJobRunner(config=api_node, registry=registry) as runner:
        await runner.enqueue(JobSpec(kind="mark", key="wh:e1:ep1"))
        await asyncio.sleep(0.6)  # several polling intervals
        assert await runner.status("wh:e1:ep1") is JobStatus.QUEUED
    async with DbosJobRunner(config=jobs_config, registry=registry) as runner:
        await wait_status(runner, "wh:e1:ep1", {JobStatus.SUCCEEDED})
    assert ran == ["wh:e1:ep1"]


def test_system_database_url_for(tmp_path: Path) -> None:
    pg = "postgresql+asyncpg://cw:pw@db.internal:5432/callwright"
    assert system_database_url_for(app_database_url=pg, data_dir=tmp_path) == (
        "postgresql://cw:pw@db.internal:5432/callwright"
    )
    assert (
        system_database_url_for(app_database_url="postgres://cw@h/db", data_dir=tmp_path)
        == "postgresql://cw@h/db"
    )
    for app in ("", f"sqlite+aiosqlite:///{tmp_path}/callwright.db"):
        assert system_database_url_for(app_database_url=app, data_dir=tmp_path) == (
            f"sqlite:///{tmp_path.resolve()}/jobs.sqlite"
        )


def test_a_job_dequeued_while_its_loop_is_stopped_runs_on_that_loop(
    jobs_config: DbosJobsConfig,
) -> None:
    """pytest-asyncio stops its loop between a fixture and the test; DBOS then starts the
    workflow on a loop of its own. The handler must still run on the runner's loop, whose
    connections it uses (driving them from a second thread segfaulted asyncpg)."""
    ran_on: list[asyncio.AbstractEventLoop] = []

    async def handle(ctx: JobContext, payload: Mapping[str, Any]) -> None:
        async def one() -> str:
            return "recorded"

        assert await ctx.step("one", one) == "recorded"
        ran_on.append(asyncio.get_running_loop())

    registry = JobRegistry()
    registry.add_handler("where", handle)
    runner = DbosJobRunner(config=jobs_config, registry=registry)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(runner.__aenter__())
        try:
            loop.run_until_complete(runner.enqueue(JobSpec(kind="where", key="k")))
            time.sleep(2.0)  # the loop is stopped while DBOS dequeues the job
            loop.run_until_complete(wait_status(runner, "k", {JobStatus.SUCCEEDED}))
        finally:
            loop.run_until_complete(runner.__aexit__(None, None, None))
    finally:
        loop.close()
    assert ran_on == [loop]


@pytest.mark.postgres
async def test_jobs_run_on_after_the_system_database_dropped_every_connection(
    pg_jobs_url: str,
) -> None:
    """The runner does not ping each pooled connection before use: a connection the server
    closed fails its first use, and DBOS must retry that on a new one."""
    config = make_config(pg_jobs_url)
    done: list[str] = []

    async def handle(ctx: JobContext, payload: Mapping[str, Any]) -> None:
        async def record() -> None:
            done.append(ctx.key)

        await ctx.step("record", record)

    registry = JobRegistry()
    registry.add_handler("one-step", handle)
    warnings = _Records()
    logging.getLogger("dbos").addHandler(warnings)  # DBOS's logger does not propagate
    try:
        async with DbosJobRunner(config=config, registry=registry) as runner:
            await runner.enqueue(JobSpec(kind="one-step", key="before"))
            await wait_status(runner, "before", {JobStatus.SUCCEEDED})
            database = pg_jobs_url.rsplit("/", 1)[1]
            dropped = await asyncio.to_thread(
                psql,
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                f" WHERE datname = '{database}' AND pid <> pg_backend_pid()",
            )
            assert int(dropped) > 0
            await runner.enqueue(JobSpec(kind="one-step", key="after"))
            await wait_status(runner, "after", {JobStatus.SUCCEEDED}, timeout_s=30)
    finally:
        logging.getLogger("dbos").removeHandler(warnings)
    assert done == ["before", "after"]
    # The dropped connections were met, and retried: not a pool that happened to be empty.
    assert any("Database connection failed" in m for m in warnings.messages), warnings.messages


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.mark.postgres
def test_a_heartbeat_after_the_database_dropped_its_connection_still_lands(
    pg_jobs_url: str,
) -> None:
    hb = ExecutorHeartbeats(system_database_url=pg_jobs_url, schema=f"hb_{time.time_ns()}")
    try:
        hb.create_table()
        hb.beat("node-a")
        database = pg_jobs_url.rsplit("/", 1)[1]
        psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        )
        hb.beat("node-a")  # on the pooled, now dead, connection unless it is pinged first
    finally:
        hb.close()
