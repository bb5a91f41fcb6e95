"""Webhook delivery: deliveries per second to a local receiver, and the latency added between
a call's end (the commit of its ``call_completed`` event) and the first delivery attempt.

Runs the real app in-process (durable DBOS jobs by default, SQLite or PostgreSQL), a
receiver on loopback answering 200, one agent subscribed to ``call_completed``.

    python bench/webhooks.py [--db sqlite|postgres] [--jobs dbos|memory] [--events 400]
        [--latency-samples 50] [--endpoints 2]

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from callwright.api.app import create_app
from callwright.bootstrap import Container, Overrides
from callwright.db.models import Call
from callwright.domain.ids import new_id
from callwright.services import events, workspaces
from callwright.services.events import CallEvents
from callwright.settings import Settings
from callwright.webhooks.testing import ReceivedRequest, RecordingReceiver, ScriptedResponse

PG_ADMIN = os.environ.get("CALLWRIGHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
AGENT = {
    "agent_name": "Bench",
    "introduction_and_objective": "You call customers about renewals.",
    "response_guidelines": "Be brief.",
    "task": "Remind about renewal.",
    "primary_language": "en-US",
    "intro_message": "Hello, this is Acme.",
    "agent_type": "outbound",
    "voice_id": "piper:en_US-joe-medium",
}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 2)


async def run(args: argparse.Namespace, db_url: str, data_dir: Path) -> dict[str, Any]:
    arrivals: dict[str, float] = {}

    def respond(req: ReceivedRequest) -> ScriptedResponse:
        arrivals.setdefault(req.headers["webhook-id"] + req.target, time.perf_counter())
        return ScriptedResponse()

    receiver = await RecordingReceiver(respond=respond).start()
    settings = Settings(data_dir=data_dir, database_url=db_url, rate_limit_per_s=0)
    app = create_app(settings, overrides=Overrides(memory_jobs=args.jobs == "memory"))
    try:
        async with app.router.lifespan_context(app):
            c: Container = app.state.container
            ws = await workspaces.create_workspace(
                c.uow,
                name="bench",
                credits=1000.0,
                sim_number=f"+1555{secrets.randbelow(10**7):07d}",
            )
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://bench/ca/api/v0",
                headers={"X-API-KEY": ws.api_key},
            )
            r = await client.post("/public/agent", json=AGENT)
            assert r.status_code == 200, r.text
            agent_id = r.json()["data"]["id"]
            targets = [f"/hook{i}" for i in range(args.endpoints)]
            subs = [
                {"event_type": ["call_completed"], "callback_url": receiver.url(t)} for t in targets
            ]
            r = await client.patch(
                "/agent/v1",
                json={
                    "operation": "edit_event_subscriptions",
                    "agent_id": agent_id,
                    "event_subscriptions": subs,
                },
            )
            assert r.status_code == 200, r.text
            await client.get("/webhooks/endpoints", params={"agent_id": agent_id})
            number = (await client.get("/workspace/numbers")).json()["workspace_numbers"][0]
            later = {"call_time": {"scheduled_at": "2099-01-01T09:00:00+00:00"}}
            r = await client.post(
                "/calling/outbound/individual",
                json={"name": "Ravi", "mobile_number": "+14155550100", "agent_id": agent_id,
                      "from_number_id": number["id"], "call_config": later},
            )  # fmt: skip
            call_id = r.json()["data"]["call_id"]
            await asyncio.sleep(1.0)  # call_started deliveries out of the way
            call_events = CallEvents(
                recordings=c.recordings, base_url=settings.base_url(), wake=c.webhook_relay.wake
            )

            # 1. Latency: end a call (commit its call_completed), time the first attempt.
            latencies = []
            for _ in range(args.latency_samples):
                async with c.uow.begin() as session:
                    call = await session.get(Call, call_id)
                    assert call is not None
                    call.sub_status = "NO_ANSWER"
                    await call_events.call_completed(session, call)
                committed = time.perf_counter()
                before = set(arrivals)
                deadline = committed + 10
                while len(set(arrivals) - before) < args.endpoints:
                    assert time.perf_counter() < deadline, "delivery did not arrive"
                    await asyncio.sleep(0.001)
                first = min(arrivals[k] for k in set(arrivals) - before)
                latencies.append(first - committed)

            # 2. Throughput: many events committed at once, time until all delivered.
            n_before = len(arrivals)
            t0 = time.perf_counter()

            async def emit_one() -> None:
                event_id = new_id()
                async with c.uow.begin() as session:
                    await events.record(
                        session,
                        workspace_id=ws.workspace_id,
                        agent_id=agent_id,
                        call_id=call_id,
                        event_type="call_completed",
                        payload={"event_type": "call_completed", "event_id": event_id},
                        event_id=event_id,
                        now=datetime.now(UTC),
                    )
                c.webhook_relay.wake()

            for start in range(0, args.events, 50):
                await asyncio.gather(*(emit_one() for _ in range(min(50, args.events - start))))
            emitted_s = time.perf_counter() - t0
            want = n_before + args.events * args.endpoints
            deadline = time.perf_counter() + 300
            while len(arrivals) < want:
                assert time.perf_counter() < deadline, f"{len(arrivals)}/{want} delivered"
                await asyncio.sleep(0.005)
            total_s = max(arrivals.values()) - t0
            await client.aclose()
    finally:
        await receiver.close()
    deliveries = args.events * args.endpoints
    return {
        "bench": "webhooks",
        "db": args.db,
        "jobs": args.jobs,
        "endpoints": args.endpoints,
        "deliveries": deliveries,
        "deliveries_per_s": round(deliveries / total_s, 1),
        "events_commit_per_s": round(args.events / emitted_s, 1),
        "call_end_to_first_attempt_ms": {
            "p50": pct(latencies, 50),
            "p95": pct(latencies, 95),
            "max": round(max(latencies) * 1000, 2),
            "mean": round(statistics.fmean(latencies) * 1000, 2),
            "samples": len(latencies),
        },
        "goal_p50_ms": 200,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--jobs", choices=("dbos", "memory"), default="dbos")
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--endpoints", type=int, default=2)
    parser.add_argument("--latency-samples", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            print(json.dumps(await run(args, f"sqlite:///{tmp}/bench.db", Path(tmp))))
            return
        name = f"cw_bench_{secrets.token_hex(4)}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
            print(json.dumps(await run(args, url, Path(tmp))))
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
