"""Helpers shared by the jobs tests (imported as a plain module: tests/jobs is on sys.path)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

from callwright.jobs.dbos_system import DbosJobsConfig
from callwright.jobs.port import JobRunner, JobStatus

PG_ADMIN = os.environ.get("CALLWRIGHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def psql(sql: str) -> str:
    """Run one statement as the PostgreSQL admin; its output, unaligned, without headers."""
    out = subprocess.run(
        ["psql", PG_ADMIN, "-qtA", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return out.stdout.strip()


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def wait_status(
    runner: JobRunner, key: str, wanted: set[JobStatus], *, timeout_s: float = 15.0
) -> JobStatus:
    """Poll until the job reaches one of ``wanted``; fail with the last status seen."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    status = await runner.status(key)
    while status not in wanted:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{key}: status {status}, wanted {wanted}")
        await asyncio.sleep(0.05)
        status = await runner.status(key)
    assert status is not None
    return status


def make_config(system_db_url: str) -> DbosJobsConfig:
    """A config isolated from other tests sharing the database: own DBOS schema (job keys
    are global within one), executor id and version."""
    tag = uuid.uuid4().hex[:8]
    return DbosJobsConfig(
        system_database_url=system_db_url,
        system_schema=f"dbos_{tag}",
        executor_id=f"test-{tag}",
        application_version=f"test-{tag}",
        heartbeat_interval_s=0.5,
        executor_silence_s=3.0,
    )
