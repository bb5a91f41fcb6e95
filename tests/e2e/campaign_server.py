"""A real callwright server process with fake engines and the sim network, running one
campaign: shared by the campaign crash test and bench/dialer.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.test_restart import KEY, ROOT


def start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("a") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.fake_server", str(port)],
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120  # a loaded 2-core machine starts slowly
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start; see {log}")
        time.sleep(0.2)


def server_env(tmp: Path, db: str, worker: str, *, cap: int) -> dict[str, str]:
    return {
        "CALLWRIGHT_DATA_DIR": str(tmp / "data"),
        "CALLWRIGHT_DATABASE_URL": db,
        "CALLWRIGHT_INIT_API_KEY": KEY,
        "CALLWRIGHT_RATE_LIMIT_PER_S": "0",
        "CALLWRIGHT_MAX_CONCURRENT_CALLS": str(cap),
        "CALLWRIGHT_DISPATCH_BACKLOG": str(cap * 2),
        "CALLWRIGHT_WORKSPACE_MAX_CONCURRENT_CALLS": str(cap),
        "CALLWRIGHT_WORKER_ID": worker,
        "CALLWRIGHT_JOBS_HEARTBEAT_S": "2",
        "CALLWRIGHT_JOBS_SILENCE_S": "10",
        "CALLWRIGHT_DEFAULT_CREDITS": "100000",
        "CALLWRIGHT_STALE_DISPATCH_S": "30",  # its own database: the sweep for lost jobs is on
    }


def start_campaign(c: httpx.Client, *, contacts: int, cap: int) -> str:
    """An assistant with a short greeting, the sim account capped at ``cap``, and a campaign of
    ``contacts`` numbers that answer and hang up once the greeting is heard; started."""
    from tests.api.bodies import public_agent

    assert c.get("/workspace").status_code == 200
    agent = public_agent()
    agent["intro_message"] = "Hi"  # a short greeting: the callee hangs up once it is heard
    agent_id = c.post("/public/agent", json=agent).json()["data"]["id"]
    number = c.get("/workspace/numbers").json()["workspace_numbers"][0]
    r = c.put(
        f"/telephony/accounts/{number['telephony_id']}/limits",
        json={"max_concurrent_calls": cap},
    )
    assert r.status_code == 200, r.text
    # Numbers ending 0004 answer and hang up after the greeting: short real calls.
    rows = ["Mobile Number,Name"] + [
        f"+1{415 + i // 800:03d}{200 + i % 800:03d}0004,Callee {i}" for i in range(contacts)
    ]
    config = (
        '{"call_time": {"call_start_time": "00:00", "call_end_time": "00:00", "timezone": "UTC"}}'
    )
    saved = c.post(
        "/campaign/save",
        data={
            "variables_map": '{"callee_name": "Name"}',
            "agent_id": agent_id,
            "country_code": "+1",
            "campaign_name": "crash test",
            "call_config": config,
        },
        files={"file": ("c.csv", "\n".join(rows).encode(), "text/csv")},
    )
    assert saved.status_code == 200 and saved.json()["successful_rows"] == contacts, saved.text
    campaign_id: str = saved.json()["list_id"]
    started = c.post(
        "/campaign/start",
        json={"agent_id": agent_id, "list_id": campaign_id, "from_numbers": [number["id"]]},
    )
    assert started.status_code == 200, started.text
    return campaign_id
