"""The campaign dialer on the sim network: a real server process (DBOS jobs, sim network,
instant fake speech engines), one campaign of short calls at a concurrency cap.

    python bench/dialer.py [--contacts 10000] [--cap 100] [--db sqlite|postgres]

Figures, from the sim network's own dial log:
- dials_per_s: dials over the campaign's active span (first dial → last hang-up);
- cap_utilisation: mean lines held / cap over that span (1.0 = the cap always full);
- refill_ms p50/p99: when the cap is full, how long a freed line stays free until the next
  dial takes it (the pacer's and job engine's scheduling overhead per call);
- server_cpu_ms_per_call: the server's CPU time per call (all of it: API, pacer, jobs, sim).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.api.test_schemathesis import _free_port  # noqa: E402
from tests.e2e.campaign_server import server_env, start, start_campaign  # noqa: E402
from tests.e2e.test_restart import api  # noqa: E402

from callwright.sim.network import DialRecord, read_dial_log  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def _pg_database() -> str:
    import uuid

    import psycopg

    name = f"bench_dialer_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _figures(dials: list[DialRecord], cap: int) -> dict[str, float]:
    ended = [d for d in dials if d.ended_at_mono is not None]
    t0 = min(d.dialed_at_mono for d in dials)
    t1 = max(d.ended_at_mono for d in ended)  # type: ignore[type-var]
    span = t1 - t0
    held = sum((d.ended_at_mono or t1) - d.dialed_at_mono for d in dials)
    # Refill: for each dial made while the cap was otherwise full, the gap since the line freed.
    events = sorted(
        [(d.dialed_at_mono, 1) for d in dials] + [(d.ended_at_mono, -1) for d in ended],
        key=lambda e: (e[0], e[1]),
    )
    active, last_free, gaps = 0, None, []
    for at, delta in events:
        if delta < 0:
            if active == cap:
                last_free = at
            active -= 1
        else:
            if last_free is not None and active == cap - 1:
                gaps.append((at - last_free) * 1000)
                last_free = None
            active += 1
    gaps.sort()
    return {
        "dials": len(dials),
        "span_s": round(span, 2),
        "dials_per_s": round(len(dials) / span, 2),
        "cap_utilisation": round(held / (cap * span), 3),
        "refill_ms_p50": round(statistics.median(gaps), 1) if gaps else None,  # type: ignore[dict-item]
        "refill_ms_p99": round(gaps[int(len(gaps) * 0.99) - 1], 1) if gaps else None,  # type: ignore[dict-item]
        "peak_lines": max_active(events),
    }


def max_active(events: list[tuple[float, int]]) -> int:
    active = peak = 0
    for _, delta in events:
        active += delta
        peak = max(peak, active)
    return peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=10_000)
    ap.add_argument("--cap", type=int, default=100)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-dialer-"))
    db = _pg_database() if args.db == "postgres" else ""
    env = server_env(tmp, db, "bench-dialer", cap=args.cap)
    subprocess.run(
        [sys.executable, "-m", "callwright.cli", "migrate"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    port = _free_port()
    proc = start(env, port, tmp / "server.log")
    try:
        with api(port) as c:
            campaign_id = start_campaign(c, contacts=args.contacts, cap=args.cap)
            cpu0 = _cpu_s(proc.pid)
            while c.get(f"/campaign/{campaign_id}/status").json()["campaign"]["status"] != (
                "completed"
            ):
                time.sleep(1.0)
            cpu = _cpu_s(proc.pid) - cpu0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    figures = _figures(read_dial_log(tmp / "data" / "sim"), args.cap)
    figures["server_cpu_ms_per_call"] = round(cpu * 1000 / args.contacts, 2)
    print(
        json.dumps(
            {
                "bench": "dialer",
                "db": args.db,
                "contacts": args.contacts,
                "cap": args.cap,
                "cores": os.cpu_count(),
                **figures,
            }
        )
    )


if __name__ == "__main__":
    main()
