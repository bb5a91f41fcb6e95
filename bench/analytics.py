"""Analytics endpoints over a big call table, over real HTTP.

Starts `callwright serve`, creates five agents through the API, stops it,
then seeds N calls (default 1,000,000) straight into the database, spread evenly over the last
90 days, in one workspace: the worst case, every call is the caller's. Calls older than two days
are finished: 60 % completed (10 % of them voicemail; log-normal durations, median ~55 s), 25 %
failed, 8 % cancelled, 5 % error, 2 % forwarded. The last two days still have unfinished ones:
55 % completed, 18 % failed, 12 % registered, 6 % retry, 4 % cancelled, 3 % error, 1 % ongoing,
1 % forwarded. Ten caller numbers; 70 % of calls in one of 20 campaigns (each call's agent and
campaign drawn independently: the roll-up's worst case); completed calls analysed with one of
four labels or none, except 0.5 % whose analysis failed and those of the last hour, pending.

Then the analytics roll-up is built by its own code (``AnalyticsRollup.drain``, what the
server's loop runs) and timed, the server started again, and each endpoint called one request
at a time over windows of 7 days, 30 days (the default) and all 90 days (every call), plus an
agent filter, the campaign drill-down, and days at +05:30; p50 and p99 per case.

    python bench/analytics.py [--db sqlite|postgres|both] [--calls 1000000] [--seconds 8]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

KEY = "cwk_bench_" + secrets.token_hex(16)
PG_ADMIN = os.environ.get("CALLWRIGHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
DAYS = 90
STATUSES = (
    ("completed", 55), ("failed", 18), ("registered", 12), ("retry", 6), ("cancelled", 4),
    ("error", 3), ("ongoing", 1), ("forwarded", 1),
)  # fmt: skip
FINISHED = (("completed", 60), ("failed", 25), ("cancelled", 8), ("error", 5), ("forwarded", 2))
RECENT = timedelta(days=2)  # calls younger than this may be unfinished
SUB_STATUS = {
    "completed": "ACCEPTED", "failed": "no answer", "registered": "QUEUED", "retry": "QUEUED",
    "cancelled": "USER_TERMINATED", "error": "not_able_to_call", "ongoing": "ACCEPTED",
    "forwarded": "ACCEPTED",
}  # fmt: skip
LABELS = ("interested", "not_interested", "callback", "wrong_number", None)
TRANSCRIPT = json.dumps(
    [
        {"bot": "Hello Ravi, this is Maya from Acme. Is now a good time?"},
        {"user": "Yes, go ahead."},
        {"bot": "Your renewal is due on Friday. Shall I send the link?"},
        {"user": "Sure, send it. Thanks."},
    ]
)
COLUMNS = (
    "id", "workspace_id", "agent_id", "agent_version_id", "direction", "status", "sub_status",
    "to_number", "from_number", "from_numbers", "callee_name", "transcript", "created_at",
    "due_at", "call_duration", "call_cost", "voicemail_detected", "bulk_list_id",
    "platform_analysis_status", "platform_analysis",
)  # fmt: skip


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 1)


def other_columns() -> dict[str, Any]:
    """Values for the calls table's remaining NOT NULL columns, from the model's defaults (so
    the bench follows schema changes)."""
    from callwright.db.models import Call

    values: dict[str, Any] = {}
    for col in Call.__table__.columns:
        if col.name in COLUMNS or col.nullable or col.primary_key:
            continue
        default = col.default.arg if col.default is not None else None
        if callable(default):
            default = default(None)
        if isinstance(default, list | dict):
            default = json.dumps(default)
        if default is None:
            raise SystemExit(f"bench: no value for calls.{col.name}")
        values[col.name] = default
    return values


def call_rows(
    n: int, workspace_id: str, agents: list[tuple[str, str]], lists: list[str], now: datetime
) -> Iterator[tuple[Any, ...]]:
    rnd = random.Random(42)
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    finished = [s for s, weight in FINISHED for _ in range(weight)]
    numbers = [f"+1555010{i:04d}" for i in range(10)]
    start = now - timedelta(days=DAYS)
    step = timedelta(seconds=DAYS * 86400 / n)
    # Queued and retrying calls are not due for years: the server must not start dialling the
    # seeded backlog while it is being measured.
    later = now + timedelta(days=3650)
    for i in range(n):
        created = start + step * i
        status = rnd.choice(statuses if now - created < RECENT else finished)
        voicemail = status == "completed" and rnd.random() < 0.1
        duration = round(min(rnd.lognormvariate(4, 1), 3600), 2) if status == "completed" else 0.0
        analysis = None
        if status == "completed":
            analysis = json.dumps(
                {"summary": "The caller asked for the renewal link.",
                 "classification": rnd.choice(LABELS), "key_points": ["renewal"],
                 "action_items": [], "callback_requested": False, "sentiment": "positive",
                 "status": "analyzed", "raw_model_output": '{"summary": "renewal link"}'}
            )  # fmt: skip
        analysis_status = "not_enabled"
        if analysis:
            analysis_status = "pending" if now - created < timedelta(hours=1) else "success"
            analysis_status = "failed" if rnd.random() < 0.005 else analysis_status
            analysis = analysis if analysis_status == "success" else None
        agent, version = rnd.choice(agents)
        number = rnd.choice(numbers)
        yield (
            str(uuid.uuid4()), workspace_id, agent, version, "outbound", status,
            "VOICEMAIL_DETECTED" if voicemail else SUB_STATUS[status], f"+9198{i:08d}", number,
            json.dumps([number]), "Ravi", TRANSCRIPT, created,
            later if status in ("registered", "retry") else created, duration,
            round(duration / 60 * 1.5, 3), voicemail,
            rnd.choice(lists) if rnd.random() < 0.7 else None,
            analysis_status, analysis,
        )  # fmt: skip


async def seed(db: str, url: str, rows: Iterator[tuple[Any, ...]]) -> float:
    t0 = time.perf_counter()
    extra = other_columns()
    columns = [*COLUMNS, *extra]
    batch: list[tuple[Any, ...]] = []
    if db == "sqlite":
        conn = sqlite3.connect(url, timeout=60)
        conn.execute("PRAGMA synchronous=OFF")
        sql = f"INSERT INTO calls ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        fmt = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite datetime text, naive UTC

        def flush() -> None:
            conn.executemany(sql, batch)
            batch.clear()

        for r in rows:
            batch.append((*r[:12], r[12].strftime(fmt), r[13].strftime(fmt), *r[14:]))
            batch[-1] += tuple(extra.values())
            if len(batch) == 50_000:
                flush()
        flush()
        conn.commit()
        conn.close()
    else:
        pg = await asyncpg.connect(url)
        try:
            for r in rows:
                batch.append((*r, *extra.values()))
                if len(batch) == 50_000:
                    await pg.copy_records_to_table("calls", records=batch, columns=columns)
                    batch.clear()
            if batch:
                await pg.copy_records_to_table("calls", records=batch, columns=columns)
        finally:
            await pg.close()
    return time.perf_counter() - t0


async def roll_up(db: str, url: str) -> dict[str, Any]:
    """Build the roll-up with the server loop's own code; then settle the statistics."""
    from sqlalchemy import text

    from callwright.db.engine import create_engine, session_factory
    from callwright.services.analytics_rollup import AnalyticsRollup

    engine = create_engine(
        f"sqlite+aiosqlite:///{url}"
        if db == "sqlite"
        else "postgresql+asyncpg://" + url.split("://", 1)[1]
    )
    try:
        t0 = time.perf_counter()
        rolled = await AnalyticsRollup(uow=session_factory(engine)).drain()
        seconds = time.perf_counter() - t0
        async with engine.connect() as conn:
            rows = await conn.scalar(text("SELECT count(*) FROM call_rollups"))
            left = await conn.scalar(text("SELECT count(*) FROM calls WHERE NOT rolled_up"))
    finally:
        await engine.dispose()
    if db == "sqlite":
        conn = sqlite3.connect(url, timeout=60)
        conn.execute("ANALYZE")
        conn.commit()
        conn.close()
    else:
        # A table in steady state has been vacuumed: the visibility map lets PostgreSQL
        # answer from the covering indexes alone.
        pg = await asyncpg.connect(url)
        try:
            await pg.execute("VACUUM ANALYZE calls")
            await pg.execute("VACUUM ANALYZE call_rollups")
        finally:
            await pg.close()
    return {
        "rollup_s": round(seconds, 1),
        "rolled_up_calls": rolled,
        "rollup_rows": rows,
        "calls_not_rolled_up": left,
    }


async def measure(
    client: httpx.AsyncClient, path: str, params: dict[str, str], seconds: float
) -> dict[str, Any]:
    """Sequential requests for ``seconds`` (at least 5, at most 60); p50/p99 in ms."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(latencies) < 5 or (time.perf_counter() < deadline and len(latencies) < 60):
        t0 = time.perf_counter()
        r = await client.get(f"/ca/api/v0/{path}", params=params)
        latencies.append(time.perf_counter() - t0)
        if r.status_code != 200:
            raise RuntimeError(f"{path} {params}: {r.status_code} {r.text[:300]}")
    return {
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "n": len(latencies),
    }


async def start_server(
    client: httpx.AsyncClient, env: dict[str, str], port: int
) -> asyncio.subprocess.Process:
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "callwright.cli", "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(300):
        try:
            if (await client.get("/healthz")).status_code == 200:
                return server
        except httpx.TransportError:
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not start")


async def stop_server(server: asyncio.subprocess.Process) -> None:
    if server.returncode is None:
        server.terminate()
        await asyncio.wait_for(server.wait(), timeout=30)


async def run_db(db: str, calls: int, seconds: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-analytics-"))
    env = {
        **os.environ,
        "CALLWRIGHT_DATA_DIR": str(tmp),
        "CALLWRIGHT_INIT_API_KEY": KEY,
        "CALLWRIGHT_RATE_LIMIT_PER_S": "0",
        "CALLWRIGHT_SIM_NUMBER": "+15550100000",
        "CALLWRIGHT_RUN_JOBS": "false",  # an API node: no calls or analysis run beside the bench
    }
    pg_name = None
    if db == "postgres":
        pg_name = f"cw_bench_{secrets.token_hex(4)}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{pg_name}"')
        await admin.close()
        env["CALLWRIGHT_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
    port = 8890 + secrets.randbelow(100)
    base = f"http://127.0.0.1:{port}"
    migrate = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "callwright.cli", "migrate", env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await migrate.wait()
    results: dict[str, Any] = {}
    server = None
    try:
        async with httpx.AsyncClient(base_url=base, headers={"X-API-KEY": KEY}, timeout=60) as c:
            server = await start_server(c, env, port)
            ws = (await c.get("/ca/api/v0/workspace")).json()["workspace_info"]["id"]
            voices = (await c.get("/ca/api/v0/agent/voices", params={"language": "en-US"})).json()[
                "voices"
            ]
            agents = []
            for i in range(5):
                form = {
                    "agent_name": f"Bench {i}", "introduction_and_objective": "Renewals.",
                    "response_guidelines": "Be brief.", "task": "Renewal reminder.",
                    "primary_language": "en-US", "voice_id": voices[0]["id"],
                    "intro_message": "Hi @{{callee_name}}",
                }  # fmt: skip
                r = await c.post("/ca/api/v0/public/agent", json=form)
                agent_id = r.json()["data"]["id"]
                detail = (await c.get(f"/ca/api/v0/agent/{agent_id}")).json()["agents"]
                agents.append((agent_id, detail["active_agent_version_id"]))
            # Seeded and rolled up with the server down: its roll-up loop would take turns
            # with ours, and the timing would be of neither.
            await stop_server(server)
            lists = [str(uuid.uuid4()) for _ in range(20)]
            url = str(tmp / "callwright.db") if db == "sqlite" else env["CALLWRIGHT_DATABASE_URL"]
            now = datetime.now(UTC)
            seed_s = await seed(db, url, call_rows(calls, ws, agents, lists, now))
            rollup = await roll_up(db, url)
            server = await start_server(c, env, port)

            def days(n: int) -> dict[str, str]:
                return {"start_date": (now - timedelta(days=n)).date().isoformat()}

            def ist(n: int) -> dict[str, str]:  # days at +05:30: the roll-up's quarter hours
                return {"start_date": f"{(now - timedelta(days=n)).date()}T00:00:00+05:30"}

            cases: list[tuple[str, str, dict[str, str]]] = []
            for path in (
                "platform-analytics", "number-analytics", "duration-distribution",
                "classification-analytics",
            ):  # fmt: skip
                cases += [
                    (path, "7d", days(7)),
                    (path, "30d_default", {}),
                    (path, "all_90d", days(DAYS + 1)),
                ]
            cases += [
                ("platform-analytics", "30d_agent", {"agent_id": agents[0][0]}),
                ("platform-analytics", "all_90d_ist", ist(DAYS + 1)),
                (
                    "platform-analytics",
                    "all_90d_ist_agent",
                    {**ist(DAYS + 1), "agent_id": agents[0][0]},
                ),
                ("number-analytics", "all_90d_agent", {**days(DAYS + 1), "agent_id": agents[0][0]}),
                ("drill-down-analytics", "30d_campaign", {"bulk_list_id": lists[0]}),
                ("drill-down-analytics", "all_campaign", {"bulk_list_id": lists[0], **days(91)}),
                ("drill-down-analytics", "all_campaign_ist", {"bulk_list_id": lists[0], **ist(91)}),
            ]
            # The floor: a request that reads one row, to tell query time from machine load.
            results["baseline:GET /workspace"] = await measure(c, "workspace", {}, seconds)
            for path, label, params in cases:
                results[f"{path}:{label}"] = await measure(c, f"analytics/{path}", params, seconds)
    finally:
        if server is not None:
            await stop_server(server)
        if pg_name:
            admin = await asyncpg.connect(PG_ADMIN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await admin.close()
        shutil.rmtree(tmp, ignore_errors=True)
    worst = max(v["p99_ms"] for k, v in results.items() if not k.startswith("baseline"))
    return {"seed_s": round(seed_s, 1), **rollup, "worst_p99_ms": worst, "cases": results}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    out: dict[str, Any] = {
        "bench": "analytics",
        "calls_in_db": args.calls,
        "days": DAYS,
        "goal_p99_ms": 200,
        "cores": os.cpu_count(),
        "note": "one request at a time; client, server and DB share a machine with other jobs",
    }
    for db in dbs:
        out[db] = await run_db(db, args.calls, args.seconds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=8, help="per case")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
