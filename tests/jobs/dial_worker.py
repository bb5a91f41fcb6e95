"""A `callwright worker` stand-in for the crash tests: runs DBOS jobs that "dial" calls.

Each job ``call:{i}`` dials once through the ledger pattern, then "talks" for 100-300 ms,
then marks the call finished:

* ``dial`` step: INSERT a unique ledger row *before* the side effect. If the insert
  conflicts, this call was already attempted by a run that crashed before its step was
  checkpointed: reconcile against the provider's own log and never dial again.
* the side effect is a row in ``{prefix}provider_calls`` (no unique constraint: it is the
  fake provider's log of every call it was asked to place, duplicates included).

Run: ``python dial_worker.py --sysdb URL --ledger URL --executor-id ID --version V
[--enqueue N] --expect N``. Exits 0 once all ``--expect`` jobs have succeeded, printing
one JSON line of stats; exits 3 on timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from callwright.jobs import JobContext, JobRegistry, JobSpec, JobStatus, QueueSpec
from callwright.jobs.dbos_runner import DbosJobRunner
from callwright.jobs.dbos_system import DbosJobsConfig


class Ledger:
    def __init__(self, url: str, prefix: str) -> None:
        sqlite = url.startswith("sqlite")
        self.engine = sa.create_engine(
            url, pool_size=12, connect_args={"timeout": 30} if sqlite else {}
        )
        if sqlite:
            with self.engine.begin() as c:
                c.exec_driver_sql("PRAGMA journal_mode=WAL")
        md = sa.MetaData()
        self.ledger = sa.Table(
            f"{prefix}dial_ledger",
            md,
            sa.Column("call_id", sa.String(64), primary_key=True),  # the unique claim
            sa.Column("state", sa.String(16), nullable=False),
            sa.Column("executor", sa.String(64), nullable=False),
            sa.Column("finished", sa.Boolean, nullable=False, default=False),
        )
        self.provider = sa.Table(
            f"{prefix}provider_calls",
            md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("call_id", sa.String(64), nullable=False),
            sa.Column("executor", sa.String(64), nullable=False),
        )
        md.create_all(self.engine)

    def dial_once(self, call_id: str, executor: str) -> str:
        try:
            with self.engine.begin() as c:
                c.execute(
                    sa.insert(self.ledger).values(
                        call_id=call_id, state="dialing", executor=executor, finished=False
                    )
                )
        except sa.exc.IntegrityError:
            return self._reconcile(call_id)
        with self.engine.begin() as c:  # the provider places the call
            c.execute(sa.insert(self.provider).values(call_id=call_id, executor=executor))
        time.sleep(0.02)  # the provider's answer takes a moment; a crash may land here
        with self.engine.begin() as c:
            c.execute(
                sa.update(self.ledger)
                .where(self.ledger.c.call_id == call_id)
                .values(state="dialed")
            )
        return "dialed"

    def _reconcile(self, call_id: str) -> str:
        with self.engine.begin() as c:
            placed = c.execute(
                sa.select(sa.func.count())
                .select_from(self.provider)
                .where(self.provider.c.call_id == call_id)
            ).scalar_one()
            # Placed: the provider has it, record that. Not placed: the crash came between
            # claim and dial; policy is to never redial automatically.
            state = "dialed" if placed else "unconfirmed"
            c.execute(
                sa.update(self.ledger).where(self.ledger.c.call_id == call_id).values(state=state)
            )
        return "reconciled"

    def finish(self, call_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(
                sa.update(self.ledger).where(self.ledger.c.call_id == call_id).values(finished=True)
            )


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sysdb", required=True)
    ap.add_argument("--ledger", required=True)
    ap.add_argument("--prefix", default="")
    ap.add_argument("--schema", default="dbos")
    ap.add_argument("--executor-id", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--enqueue", type=int, default=0)
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--heartbeat-s", type=float, default=0.5)
    ap.add_argument("--silence-s", type=float, default=3.0)
    ap.add_argument("--timeout-s", type=float, default=60.0)
    args = ap.parse_args()

    ledger = Ledger(args.ledger, args.prefix)
    outcomes: dict[str, int] = {}

    async def dial(ctx: JobContext, payload: Mapping[str, Any]) -> None:
        call_id = payload["call_id"]
        outcome = await ctx.step(
            "dial", lambda: asyncio.to_thread(ledger.dial_once, call_id, args.executor_id)
        )
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        await asyncio.sleep(payload["talk_ms"] / 1000)  # the conversation
        await ctx.step("finish", lambda: asyncio.to_thread(ledger.finish, call_id))

    registry = JobRegistry()
    registry.add_handler("dial", dial)
    registry.add_queue(
        QueueSpec(name="dial", concurrency=args.concurrency, polling_interval_s=0.05)
    )
    config = DbosJobsConfig(
        system_database_url=args.sysdb,
        system_schema=args.schema,
        executor_id=args.executor_id,
        application_version=args.version,
        heartbeat_interval_s=args.heartbeat_s,
        executor_silence_s=args.silence_s,
    )
    rng = random.Random(7)
    keys = [f"call:{i}" for i in range(args.expect)]
    async with DbosJobRunner(config=config, registry=registry) as runner:
        print(json.dumps({"event": "started", "executor": args.executor_id}), flush=True)
        t0 = time.monotonic()
        for i in range(args.enqueue):
            await runner.enqueue(
                JobSpec(
                    kind="dial",
                    key=keys[i],
                    queue="dial",
                    payload={"call_id": keys[i], "talk_ms": rng.randint(100, 300)},
                )
            )
        print(json.dumps({"event": "enqueued", "n": args.enqueue}), flush=True)
        deadline = t0 + args.timeout_s
        while time.monotonic() < deadline:
            statuses = [await runner.status(k) for k in keys]
            if all(s is JobStatus.SUCCEEDED for s in statuses):
                print(
                    json.dumps(
                        {
                            "event": "done",
                            "executor": args.executor_id,
                            "outcomes": outcomes,
                            "recovered": runner.supervisor.recovered,
                            "elapsed_s": round(time.monotonic() - t0, 2),
                        }
                    ),
                    flush=True,
                )
                return 0
            await asyncio.sleep(0.2)
    print(json.dumps({"event": "timeout", "statuses": [str(s) for s in statuses]}), flush=True)
    return 3


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
