"""Durable-jobs throughput: enqueue rate and end-to-end job rate through the DBOS runner.

Runs N jobs (one checkpointed step + ``--work-ms`` of sleep each) on a queue capped at
``--concurrency``, on SQLite and, if reachable, PostgreSQL (a scratch database created and
dropped here). Prints one JSON line.

    .venv/bin/python bench/jobs.py [--n 300] [--concurrency 20] [--work-ms 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping
from typing import Any

from callwright.jobs import JobContext, JobRegistry, JobSpec, QueueSpec
from callwright.jobs.dbos_runner import DbosJobRunner
from callwright.jobs.dbos_system import DbosJobsConfig

PG_ADMIN = os.environ.get("CALLWRIGHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


async def run(url: str, *, n: int, concurrency: int, work_ms: int) -> dict[str, float]:
    done = asyncio.Event()
    finished = 0

    async def handle(ctx: JobContext, payload: Mapping[str, Any]) -> None:
        nonlocal finished

        async def work() -> int:
            await asyncio.sleep(work_ms / 1000)
            return 1

        await ctx.step("work", work)
        finished += 1
        if finished == n:
            done.set()

    registry = JobRegistry()
    registry.add_handler("bench", handle)
    registry.add_queue(QueueSpec(name="bench", concurrency=concurrency, polling_interval_s=0.1))
    config = DbosJobsConfig(system_database_url=url, application_version="bench")
    async with DbosJobRunner(config=config, registry=registry) as runner:
        t0 = time.perf_counter()
        for i in range(n):
            await runner.enqueue(JobSpec(kind="bench", key=f"bench:{i}", queue="bench"))
        t_enq = time.perf_counter() - t0
        await asyncio.wait_for(done.wait(), timeout=600)  # the last handler has returned
        t_all = time.perf_counter() - t0
    return {
        "enqueue_per_s": round(n / t_enq, 1),
        "jobs_per_s": round(n / t_all, 1),
        "total_s": round(t_all, 2),
    }


def psql(sql: str) -> None:
    subprocess.run(["psql", PG_ADMIN, "-q", "-c", sql], check=True, capture_output=True)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--work-ms", type=int, default=100)
    args = ap.parse_args()
    kw = {"n": args.n, "concurrency": args.concurrency, "work_ms": args.work_ms}
    out: dict[str, Any] = {
        "bench": "jobs",
        **kw,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    with tempfile.TemporaryDirectory() as d:
        out["sqlite"] = await run(f"sqlite:///{d}/jobs.sqlite", **kw)
    name = f"callwright_jobs_bench_{uuid.uuid4().hex[:8]}"
    try:
        psql(f"CREATE DATABASE {name}")
    except (OSError, subprocess.SubprocessError):
        out["postgres"] = None
    else:
        try:
            out["postgres"] = await run(f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}", **kw)
        finally:
            psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main())
