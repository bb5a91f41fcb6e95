"""API throughput with a big call table: sustained call creation and history reads.

Seeds N calls (default 1,000,000) straight into the database, starts `callwright serve`, then
measures POST /calling/outbound/individual (to sim numbers that never answer, so the API and
the queue are measured, not conversations) and GET /calling/history.

    python bench/api_calls.py [--db sqlite|postgres] [--calls 1000000] [--seconds 15]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx

ROOT = Path(__file__).parents[1]
KEY = "cwk_bench_" + secrets.token_hex(16)
IDLE_S = 5.0  # measure the idle server's own CPU use this long
PG_ADMIN = os.environ.get("CALLWRIGHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TRANSCRIPT = json.dumps(
    [
        {"bot": "Hello Ravi, this is Maya from Acme. Is now a good time?"},
        {"user": "Yes, go ahead."},
        {"bot": "Your renewal is due on Friday. Shall I send the link?"},
        {"user": "Sure, send it. Thanks."},
        {"bot": "Done. Have a great day, goodbye!"},
    ]
)


def cpu_s(pid: int) -> float:
    """CPU time (user + system, all threads) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 2)


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> float:
    """One HTTP/1.1 request on a kept-alive connection; its latency. A bare client: httpx
    spends as much CPU per request as the server does, and the two share this machine."""
    t0 = time.perf_counter()
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    body = await reader.readexactly(length)
    if status != 200:
        raise RuntimeError(f"{status} {body[:200]!r}")
    return time.perf_counter() - t0


async def load(
    port: int,
    method: str,
    path: str,
    body_fn: Callable[[], dict[str, object]] | None = None,
    *,
    params: dict[str, object] | None = None,
    seconds: float,
    concurrency: int,
) -> list[float]:
    """``concurrency`` connections sending back to back for ``seconds``; every latency."""
    target = f"/ca/api/v0{path}" + (f"?{urlencode(params)}" if params else "")
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-KEY: {KEY}\r\n"

    def request() -> bytes:
        if body_fn is None:
            return (head + "\r\n").encode()
        body = json.dumps(body_fn()).encode()
        return (
            head + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                latencies.append(await _request(reader, writer, request()))
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def seed_rows(workspace_id: str, agent_id: str, version_id: str, n: int) -> list[tuple[Any, ...]]:
    start = datetime.now(UTC) - timedelta(days=90)
    rows = []
    for i in range(n):
        created = start + timedelta(seconds=i * 7.7)
        rows.append(
            (
                str(uuid.uuid4()), workspace_id, agent_id, version_id, "outbound", "completed",
                "ACCEPTED", f"+9198{i:08d}", "+15550100000", "Ravi", TRANSCRIPT, created,
                round(random.uniform(5, 200), 2), round(random.uniform(0.1, 5), 2),
            )
        )  # fmt: skip
    return rows


COLUMNS = (
    "id, workspace_id, agent_id, agent_version_id, direction, status, sub_status, to_number, "
    "from_number, callee_name, transcript, created_at, call_duration, call_cost"
)
DEFAULTS = {  # the remaining NOT NULL columns
    "from_numbers": "[]", "custom_args_values": "{}", "call_config": "{}", "retry_count": 0,
    "attempts": "[]", "turn_latencies": "[]", "recording_duration": 0.0,
    "voicemail_detected": False, "locked_credits": 0.0, "credits_processed": True,
    "platform_analysis_status": "success", "client_analysis_status": "not_enabled",
}  # fmt: skip


async def wait_rolled_up(db: str, url: str, timeout_s: float = 1200) -> float:
    """Wait until the server's analytics roll-up has taken in the seeded calls (a backlog of a
    million calls it would otherwise work through while we measure), then tidy up after its
    updates: the steady state a long-running server is in."""
    t0 = time.perf_counter()

    async def left() -> int:
        if db == "sqlite":
            import sqlite3

            conn = sqlite3.connect(url, timeout=60)
            try:
                return int(
                    conn.execute("SELECT count(*) FROM calls WHERE NOT rolled_up").fetchone()[0]
                )
            finally:
                conn.close()
        pg = await asyncpg.connect(url)
        try:
            return int(await pg.fetchval("SELECT count(*) FROM calls WHERE NOT rolled_up"))
        finally:
            await pg.close()

    before = await left()
    while time.perf_counter() - t0 < timeout_s:
        await asyncio.sleep(6)  # longer than the loop's idle poll: no change means drained
        now = await left()
        if now == before:
            break
        before = now
    if db == "postgres":
        pg = await asyncpg.connect(url)
        try:
            await pg.execute("VACUUM ANALYZE calls")
        finally:
            await pg.close()
    return time.perf_counter() - t0


async def seed(
    db: str, url: str, workspace_id: str, agent_id: str, version_id: str, n: int
) -> float:
    t0 = time.perf_counter()
    cols = COLUMNS + ", due_at, " + ", ".join(DEFAULTS)
    batch = 50_000
    if db == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url)
        conn.execute("PRAGMA synchronous=OFF")
        marks = ", ".join("?" * (14 + 1 + len(DEFAULTS)))
        for off in range(0, n, batch):
            rows = seed_rows(workspace_id, agent_id, version_id, min(batch, n - off))
            conn.executemany(
                f"INSERT INTO calls ({cols}) VALUES ({marks})",
                [
                    (
                        *r[:11],
                        r[11].replace(tzinfo=None).isoformat(" "),
                        *r[12:],
                        r[11].replace(tzinfo=None).isoformat(" "),
                        *DEFAULTS.values(),
                    )
                    for r in rows
                ],
            )
        conn.commit()
        conn.close()
    else:
        conn = await asyncpg.connect(url)
        try:
            for off in range(0, n, batch):
                rows = seed_rows(workspace_id, agent_id, version_id, min(batch, n - off))
                records = [(*r[:12], *r[12:], r[11], *DEFAULTS.values()) for r in rows]
                await conn.copy_records_to_table(
                    "calls", records=records, columns=[c.strip() for c in cols.split(",")]
                )
            await conn.execute("ANALYZE calls")
        finally:
            await conn.close()
    return time.perf_counter() - t0


async def run(args: argparse.Namespace) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-"))
    env = {
        **os.environ,
        "CALLWRIGHT_DATA_DIR": str(tmp),
        "CALLWRIGHT_INIT_API_KEY": KEY,
        "CALLWRIGHT_RATE_LIMIT_PER_S": "0",
        "CALLWRIGHT_DEFAULT_CREDITS": "1e9",
        "CALLWRIGHT_SIM_NUMBER": "+15550100000",
    }
    pg_name = None
    if args.db == "postgres":
        pg_name = f"cw_bench_{secrets.token_hex(4)}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{pg_name}"')
        await admin.close()
        env["CALLWRIGHT_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
    port = 8790 + secrets.randbelow(100)
    base = f"http://127.0.0.1:{port}"
    py = sys.executable
    migrate = await asyncio.create_subprocess_exec(
        py, "-m", "callwright.cli", "migrate", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    await migrate.wait()
    server = await asyncio.create_subprocess_exec(
        py, "-m", "callwright.cli", "serve", "--port", str(port), env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(headers={"X-API-KEY": KEY}) as c:
            for _ in range(150):
                try:
                    if (await c.get(f"{base}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
            ws = (await c.get(f"{base}/ca/api/v0/workspace")).json()["workspace_info"]["id"]
            voices = (
                await c.get(f"{base}/ca/api/v0/agent/voices", params={"language": "en-US"})
            ).json()["voices"]
            form = {
                "agent_name": "Bench", "introduction_and_objective": "Remind of renewals.",
                "response_guidelines": "Be brief.", "task": "Renewal reminder.",
                "primary_language": "en-US", "voice_id": voices[0]["id"],
                "intro_message": "Hi @{{callee_name}}",
            }  # fmt: skip
            agent = (await c.post(f"{base}/ca/api/v0/public/agent", json=form)).json()["data"]["id"]
            detail = (await c.get(f"{base}/ca/api/v0/agent/{agent}")).json()["agents"]
            number = (await c.get(f"{base}/ca/api/v0/workspace/numbers")).json()[
                "workspace_numbers"
            ][0]["id"]
        url = str(tmp / "callwright.db") if args.db == "sqlite" else env["CALLWRIGHT_DATABASE_URL"]
        seed_s = await seed(args.db, url, ws, agent, detail["active_agent_version_id"], args.calls)
        rollup_s = await wait_rolled_up(args.db, url)

        cpu0 = cpu_s(server.pid)
        await asyncio.sleep(IDLE_S)
        idle_cpu_s = cpu_s(server.pid) - cpu0
        cpu0 = cpu_s(server.pid)
        history = await load(
            port,
            "GET",
            "/calling/history",
            params={"limit": 10},
            seconds=args.seconds,
            concurrency=4,
        )
        history_cpu_s = cpu_s(server.pid) - cpu0
        filtered = await load(
            port,
            "GET",
            "/calling/history",
            params={"limit": 10, "agent_id": agent, "status": "completed"},
            seconds=args.seconds / 2,
            concurrency=4,
        )
        n = iter(range(10**9))
        all_day = {"call_start_time": "00:00", "call_end_time": "00:00"}

        def body() -> dict[str, object]:
            return {
                "name": "Bench Callee",
                "mobile_number": f"+1415{next(n) % 1000:03d}0002",
                "agent_id": agent,
                "from_number_id": number,
                # all day, so the figures do not depend on the hour the bench runs
                "call_config": {"call_time": all_day},
            }

        cpu0 = cpu_s(server.pid)
        creates = await load(
            port,
            "POST",
            "/calling/outbound/individual",
            body,
            seconds=args.seconds,
            concurrency=args.create_concurrency,
        )
        create_cpu_s = cpu_s(server.pid) - cpu0
    finally:
        server.terminate()
        await asyncio.wait_for(server.wait(), timeout=30)
        if pg_name:
            admin = await asyncpg.connect(PG_ADMIN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await admin.close()
    return {
        "bench": "api_calls",
        "db": args.db,
        "calls_in_db": args.calls,
        "seed_s": round(seed_s, 1),
        "rollup_wait_s": round(rollup_s, 1),
        "history_rps": round(len(history) / args.seconds, 1),
        "history_p50_ms": percentile(history, 50),
        "history_p99_ms": percentile(history, 99),
        "history_filtered_p50_ms": percentile(filtered, 50),
        "history_filtered_p99_ms": percentile(filtered, 99),
        "create_rps": round(len(creates) / args.seconds, 1),
        "create_p50_ms": percentile(creates, 50),
        "create_p99_ms": percentile(creates, 99),
        # Server CPU per request: steadier than wall-clock figures on a shared machine. It
        # includes the background work (job queue polling, dispatcher) that runs meanwhile:
        "idle_server_cpu_pct": round(idle_cpu_s / IDLE_S * 100, 1),
        "history_server_cpu_ms": round(history_cpu_s / len(history) * 1000, 2),
        "create_server_cpu_ms": round(create_cpu_s / len(creates) * 1000, 2),
        "client_concurrency": {"history": 4, "create": args.create_concurrency},
        "cores": os.cpu_count(),
        "note": "client (a bare HTTP/1.1 client) and server share the machine",
        "load_avg_1m": os.getloadavg()[0],
        "mean_history_ms": round(statistics.mean(history) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=15)
    # A backend placing calls in bulk sends them in parallel; group commit batches them.
    parser.add_argument("--create-concurrency", type=int, default=32)
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
