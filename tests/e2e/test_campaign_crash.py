"""A 2,000-contact campaign survives kill -9 at random points: every contact ends in a
terminal state, none is dialled twice for one attempt (the sim network's own fsync'd log),
no cap is exceeded, and work resumes within 10 s of each restart. On PostgreSQL two server
processes share the work and one of them dies for good: the other takes its work over."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from callwright.sim.network import DialRecord, read_dial_log
from tests.api.test_schemathesis import _free_port
from tests.e2e.campaign_server import server_env, start, start_campaign
from tests.e2e.test_restart import api

# 2,000 contacts: with the pacer handing over to its next generation every 300 ticks, a
# campaign this long crosses several hand-overs and re-runs of long histories.
CONTACTS = int(os.environ.get("CALLWRIGHT_TEST_CRASH_CONTACTS", "2000"))
CAP = 20
KILLS = 5
TERMINAL = {"completed", "failed", "error", "cancelled"}


@dataclass
class Run:
    tmp: Path
    env: dict[str, str]
    kills_mono: list[float] = field(default_factory=list)
    resume_s: list[float] = field(default_factory=list)

    @property
    def log_dir(self) -> Path:
        return self.tmp / "data" / "sim"

    def dials(self) -> list[DialRecord]:
        return read_dial_log(self.log_dir)


def _progress(c: httpx.Client, campaign_id: str) -> dict[str, Any]:
    body: dict[str, Any] = c.get(f"/campaign/{campaign_id}/status").json()
    return body


def _wait_dials(run: Run, at_least: int, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while len(run.dials()) < at_least:
        assert proc.poll() is None, "server died"
        assert time.monotonic() < deadline, f"stuck at {len(run.dials())} dials"
        time.sleep(0.2)


def _kill(run: Run, proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run.kills_mono.append(time.monotonic())


def _restart(run: Run, env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    before = len(run.dials())
    proc = start(env, port, log)
    ready = time.monotonic()
    deadline = ready + 30
    try:
        while len(run.dials()) <= before:
            assert time.monotonic() < deadline, "no dial within 30 s of a restart"
            time.sleep(0.1)
    except BaseException:
        _stop(proc)  # the caller's clean-up only knows the process it killed
        raise
    first_new = min(d.dialed_at_mono for d in run.dials()[before:])
    run.resume_s.append(max(0.0, first_new - ready))
    return proc


def _finish(run: Run, port: int, campaign_id: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    with api(port) as c:
        while True:
            body = _progress(c, campaign_id)
            if body["campaign"]["status"] == "completed":
                return body
            assert time.monotonic() < deadline, body["by_status"]
            time.sleep(1.0)


def _check(run: Run, body: dict[str, Any]) -> None:
    assert set(body["by_status"]) <= TERMINAL, body["by_status"]
    assert sum(body["by_status"].values()) == CONTACTS
    dials = run.dials()
    per_call = Counter(d.call_id for d in dials)
    twice = {k: n for k, n in per_call.items() if n > 1}
    assert not twice, twice  # no retries configured: one attempt, so one dial at most
    assert (
        len(per_call) >= CONTACTS * 0.9
    )  # the rest were mid-dial at a kill: closed, not redialled
    assert _peak(dials, run.kills_mono) <= CAP
    assert run.resume_s and max(run.resume_s) <= 10, run.resume_s


def _peak(dials: list[DialRecord], kills: list[float]) -> int:
    """Most lines held at once; a line left open by a killed process ends at the kill."""
    edges: list[tuple[float, int]] = []
    for d in dials:
        end = d.ended_at_mono
        if end is None:
            end = min((k for k in kills if k >= d.dialed_at_mono), default=float("inf"))
        edges += [(d.dialed_at_mono, 1), (end, -1)]
    edges.sort()
    active = peak = 0
    for _, delta in edges:
        active += delta
        peak = max(peak, active)
    return peak


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """A clean stop at the end, so the last dial-log lines are on disk before we read it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _kill_points(seed: int) -> list[int]:
    rng = random.Random(seed)
    return sorted(rng.sample(range(CONTACTS // 20, CONTACTS * 8 // 10), KILLS))


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_kill_9_five_times_on_sqlite(tmp_path: Path) -> None:
    env = server_env(tmp_path, "", "crash-a", cap=CAP)
    run = Run(tmp_path, env)
    subprocess.run(
        [sys.executable, "-m", "callwright.cli", "migrate"], env={**os.environ, **env}, check=True
    )
    port, log = _free_port(), tmp_path / "server.log"
    proc = start(env, port, log)
    try:
        with api(port) as c:
            campaign_id = start_campaign(c, contacts=CONTACTS, cap=CAP)
        for point in _kill_points(seed=5):
            _wait_dials(run, point, proc, timeout_s=120)
            _kill(run, proc)
            proc = _restart(run, env, port, log)
        body = _finish(run, port, campaign_id, timeout_s=600)
    finally:
        _stop(proc)
    _check(run, body)


@pytest.mark.slow
@pytest.mark.timeout(1200)
@pytest.mark.postgres
def test_two_workers_on_postgres_one_dies_for_good(
    tmp_path: Path, empty_pg_database_url: str
) -> None:
    env_a = server_env(tmp_path, empty_pg_database_url, "crash-a", cap=CAP)
    env_b = server_env(tmp_path, empty_pg_database_url, "crash-b", cap=CAP)
    run = Run(tmp_path, env_a)
    subprocess.run(
        [sys.executable, "-m", "callwright.cli", "migrate"], env={**os.environ, **env_a}, check=True
    )
    port_a, port_b = _free_port(), _free_port()
    a = start(env_a, port_a, tmp_path / "a.log")
    b = start(env_b, port_b, tmp_path / "b.log")
    try:
        with api(port_a) as c:
            campaign_id = start_campaign(c, contacts=CONTACTS, cap=CAP)
        *restarts, last = _kill_points(seed=7)
        for point in restarts:
            _wait_dials(run, point, a, timeout_s=120)
            _kill(run, a)
            a = _restart(run, env_a, port_a, tmp_path / "a.log")
        _wait_dials(run, last, a, timeout_s=120)
        _kill(run, b)  # for good
        taken_over_s = _wait_taken_over(empty_pg_database_url, "crash-b", timeout_s=90)
        body = _finish(run, port_a, campaign_id, timeout_s=600)
    finally:
        for p in (a, b):
            _stop(p)
    _check(run, body)
    assert taken_over_s <= 90


def _wait_taken_over(db_url: str, executor: str, timeout_s: float) -> float:
    """Seconds until no workflow of ``executor`` is left pending (the survivor recovered them)."""
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    t0 = time.monotonic()
    try:
        while True:
            with engine.connect() as conn:
                pending = conn.scalar(
                    sa.text(
                        "SELECT count(*) FROM dbos.workflow_status"
                        " WHERE executor_id = :e AND status = 'PENDING'"
                    ),
                    {"e": executor},
                )
            if not pending:
                return time.monotonic() - t0
            assert time.monotonic() - t0 < timeout_s, f"{pending} workflows still pending"
            time.sleep(1.0)
    finally:
        engine.dispose()
