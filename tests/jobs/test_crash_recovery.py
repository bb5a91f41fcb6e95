"""kill -9 tests: no job lost, no call dialled twice (the ledger pattern), and a live worker
recovering a dead one's jobs. The workers are real processes running dial_worker.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

WORKER = Path(__file__).with_name("dial_worker.py")
REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


class Worker:
    def __init__(self, tmp: Path, name: str, args: list[str]) -> None:
        self.out = tmp / f"{name}.out"
        self.err = tmp / f"{name}.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(WORKER), *args], stdout=out, stderr=err, cwd=REPO
            )

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def finish(self, timeout_s: float) -> dict[str, Any]:
        try:
            rc = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill9()
            rc = -9
        lines = [json.loads(x) for x in self.out.read_text().splitlines() if x.startswith("{")]
        assert rc == 0, f"worker rc={rc}: {lines[-1:]}\n{self.err.read_text()[-3000:]}"
        last: dict[str, Any] = lines[-1]
        return last

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill9()


def ledger_counts(engine: sa.Engine, prefix: str, executor: str | None = None) -> tuple[int, int]:
    """(rows claimed, rows finished) in the dial ledger, optionally for one executor."""
    where = "" if executor is None else f" WHERE executor = '{executor}'"
    try:
        with engine.connect() as c:
            row = c.exec_driver_sql(
                f"SELECT count(*), coalesce(sum(CASE WHEN finished THEN 1 ELSE 0 END), 0) "
                f"FROM {prefix}dial_ledger{where}"
            ).one()
    except sa.exc.DBAPIError:
        return 0, 0  # the worker has not created the table yet
    return int(row[0]), int(row[1])


def wait_until(cond: Any, *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def check_ledger(engine: sa.Engine, prefix: str, n: int) -> dict[str, int]:
    """Every call finished; the provider placed each call at most once; a call the provider
    never placed is marked unconfirmed (never silently lost, never redialled)."""
    with engine.connect() as c:
        ledger = {
            r[0]: (r[1], bool(r[2]))
            for r in c.exec_driver_sql(f"SELECT call_id, state, finished FROM {prefix}dial_ledger")
        }
        placed: dict[str, int] = {}
        for (call_id,) in c.exec_driver_sql(f"SELECT call_id FROM {prefix}provider_calls"):
            placed[call_id] = placed.get(call_id, 0) + 1
    assert sorted(ledger) == sorted(f"call:{i}" for i in range(n))
    assert all(finished for _, finished in ledger.values())
    double = {k: v for k, v in placed.items() if v > 1}
    assert double == {}, f"dialled twice: {double}"
    for call_id, (state, _) in ledger.items():
        assert state == ("dialed" if placed.get(call_id) else "unconfirmed"), call_id
    return {"placed": len(placed), "unconfirmed": n - len(placed)}


def test_kill9_then_restart_same_executor(system_db_url: str, tmp_path: Path) -> None:
    n = 40
    ledger_url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    engine = sa.create_engine(ledger_url)
    tag = uuid.uuid4().hex[:8]
    common = [
        "--sysdb",
        system_db_url,
        "--schema",
        f"dbos_{tag}",
        "--ledger",
        ledger_url,
        "--executor-id",
        "worker-1",
        "--version",
        f"crash-{tag}",
        "--expect",
        str(n),
        "--enqueue",
        str(n),
        "--concurrency",
        "8",
    ]
    first = Worker(tmp_path, "first", common)
    try:
        wait_until(
            lambda: ledger_counts(engine, "")[0] >= 12,
            timeout_s=30,
            what="first worker to dial 12 calls",
        )
        first.kill9()
        claimed, finished = ledger_counts(engine, "")
        assert finished < n and claimed > finished, "kill landed after the run: no crash tested"
        # Same executor id: DBOS recovers its PENDING jobs on launch. The restarted worker
        # enqueues every call again, as a reconciler would: keys make that harmless.
        second = Worker(tmp_path, "second", common)
        try:
            done = second.finish(timeout_s=60)
        finally:
            second.stop()
    finally:
        first.stop()
    stats = check_ledger(engine, "", n)
    assert done["event"] == "done"
    print(json.dumps({"in_flight_at_kill": claimed - finished, **stats, **done["outcomes"]}))


@pytest.mark.postgres
def test_live_worker_recovers_dead_worker(pg_jobs_url: str, tmp_path: Path) -> None:
    n, silence_s = 60, 3.0
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    ledger_url = pg_jobs_url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(ledger_url)
    tag = uuid.uuid4().hex[:6]
    a_id, b_id = f"wA-{tag}", f"wB-{tag}"
    common = [
        "--sysdb",
        pg_jobs_url,
        "--schema",
        f"dbos_{tag}",
        "--ledger",
        ledger_url,
        "--prefix",
        prefix,
        "--version",
        f"two-{tag}",
        "--expect",
        str(n),
        "--concurrency",
        "6",
        "--heartbeat-s",
        "0.5",
        "--silence-s",
        str(silence_s),
    ]
    b = Worker(tmp_path, "b", [*common, "--executor-id", b_id])
    # One at a time through DBOS's schema migrations.
    wait_until(lambda: b"started" in b.out.read_bytes(), timeout_s=30, what="worker B")
    a = Worker(tmp_path, "a", [*common, "--executor-id", a_id, "--enqueue", str(n)])
    try:

        def a_in_flight() -> bool:
            if b'"enqueued"' not in a.out.read_bytes():
                return False  # every job must be enqueued before A dies
            claimed, finished = ledger_counts(engine, prefix, a_id)
            return claimed - finished >= 2 and ledger_counts(engine, prefix, b_id)[0] >= 1

        wait_until(a_in_flight, timeout_s=40, what="both workers dialling")
        a.kill9()  # for good: A never comes back
        killed_at = time.monotonic()
        done = b.finish(timeout_s=60)
        recovery_s = time.monotonic() - killed_at
    finally:
        a.stop()
        b.stop()
    assert done["recovered"] == [a_id]
    # Silence period + one sweep + draining what is left at B's share of the cap.
    assert recovery_s < silence_s + 15
    stats = check_ledger(engine, prefix, n)
    print(json.dumps({"recovery_s": round(recovery_s, 1), **stats, **done["outcomes"]}))
    engine.dispose()
