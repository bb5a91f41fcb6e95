"""kill -9 the platform with calls queued, scheduled, in progress and in analysis; after a
restart every call finishes and no attempt is dialled twice (the sim network's own log)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from callwright.sim.network import read_dial_log
from tests.api.test_schemathesis import _free_port, _wait_ready
from tests.calls.conftest import call_body

KEY = "cwk_restart_test_key_abcdefghijklmnopqrstuvwxyz01"
ROOT = Path(__file__).parents[2]


def start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("a") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.fake_server", str(port)],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    _wait_ready(f"http://127.0.0.1:{port}", proc)
    return proc


def api(port: int) -> httpx.Client:
    return httpx.Client(
        base_url=f"http://127.0.0.1:{port}/ca/api/v0", headers={"X-API-KEY": KEY}, timeout=30
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_kill_9_and_restart(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    db = "" if backend == "sqlite" else request.getfixturevalue("empty_pg_database_url")
    env = {
        "CALLWRIGHT_DATA_DIR": str(tmp_path / "data"),
        "CALLWRIGHT_DATABASE_URL": db,
        "CALLWRIGHT_INIT_API_KEY": KEY,
        "CALLWRIGHT_RATE_LIMIT_PER_S": "0",
        "CALLWRIGHT_MAX_CONCURRENT_CALLS": "2",
        "CALLWRIGHT_WORKER_ID": "restart-test",
        "CALLWRIGHT_TEST_ANALYSIS_DELAY_S": "2",
        "CALLWRIGHT_DEFAULT_CREDITS": "10000",
    }
    port = _free_port()
    log = tmp_path / "server.log"
    # The first start creates the default workspace with the known key.
    subprocess.run(
        [sys.executable, "-m", "callwright.cli", "migrate"], env={**os.environ, **env}, check=True
    )
    proc = start(env, port, log)
    try:
        with api(port) as c:
            _seed_workspace(c)
            agent_id, number_id = _agent_and_number(c)
            scheduled = (datetime.now(UTC) + timedelta(seconds=6)).isoformat()
            ids: list[str] = []
            for i in range(8):
                body = call_body(
                    agent_id,
                    f"+1415555{1000 + i:04d}",
                    name=f"Callee {i}",
                    from_number_id=number_id,
                )
                if i >= 6:
                    body["scheduled_at"] = scheduled
                r = c.post("/calling/outbound/individual", json=body)
                assert r.status_code == 200, r.text
                ids.append(r.json()["data"]["call_id"])
            time.sleep(2.5)  # some calls done and in analysis, some in progress, some queued
            before = _statuses(c, ids)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert set(before.values()) & {"registered", "ongoing"}, before

    restarted = start(env, port, log)
    t0 = time.monotonic()
    try:
        with api(port) as c:
            while True:
                details = {i: _details(c, i) for i in ids}
                done = all(
                    d["call_status"] in ("completed", "error", "failed")
                    and d["platform_analysis_status"] != "pending"
                    for d in details.values()
                )
                if done:
                    break
                assert time.monotonic() - t0 < 90, {
                    i: (d["call_status"], d["platform_analysis_status"]) for i, d in details.items()
                }
                time.sleep(0.5)
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)

    dials = read_dial_log(tmp_path / "data" / "sim")
    per_call = Counter(d.call_id for d in dials)
    assert set(per_call) <= set(ids)
    assert all(n == 1 for n in per_call.values()), per_call  # no retries configured: one dial each
    completed = [i for i, d in details.items() if d["call_status"] == "completed"]
    for call_id in completed:
        assert per_call[call_id] == 1
        assert details[call_id]["platform_analysis"]["summary"]
    # Calls that were mid-conversation at the kill are closed, never redialled.
    for d in details.values():
        if d["call_status"] == "error":
            assert d["call_sub_status"] == "RECONCILED_TO_ERROR_FROM_ONGOING"
    assert len(completed) >= 6, {i: d["call_status"] for i, d in details.items()}


def _seed_workspace(c: httpx.Client) -> None:
    assert c.get("/workspace").status_code == 200


def _agent_and_number(c: httpx.Client) -> tuple[str, str]:
    from tests.api.bodies import public_agent

    agent_id = c.post("/public/agent", json=public_agent()).json()["data"]["id"]
    number_id = c.get("/workspace/numbers").json()["workspace_numbers"][0]["id"]
    return agent_id, number_id


def _details(c: httpx.Client, call_id: str) -> dict[str, Any]:
    data: dict[str, Any] = c.get(
        "/calling/call-details", params={"id": call_id, "send_analysis": True}
    ).json()["data"]
    return data


def _statuses(c: httpx.Client, ids: list[str]) -> dict[str, str]:
    return {i: _details(c, i)["call_status"] for i in ids}
