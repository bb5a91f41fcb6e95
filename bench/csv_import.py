"""Contact CSV import: a 100,000-row and a 1,000,000-row CSV validated and stored.

Goals (issue 5): 100k rows in ≤ 5 s; 1M rows with peak RSS ≤ 300 MB. Each size runs in a
subprocess of its own, so its peak RSS (``getrusage``) is its own; the figure includes the
interpreter and libraries (``baseline_rss_mb`` is the peak before the import starts). Runs on
SQLite and, with ``--db both`` or ``postgres``, on a scratch PostgreSQL database. Prints one
JSON line. ``seconds`` is wall time; ``import_cpu_s`` is the CPU time of the import (all
threads), the fairer figure when other work shares the machine (``load_avg_1m``).

    .venv/bin/python bench/csv_import.py [--sizes 100000,1000000] [--db sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

PG_ADMIN = os.environ.get("CALLWRIGHT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
INVALID_EVERY = 1000  # one bad row in a thousand, so the rejected-rows file is exercised


def generate(path: Path, rows: int) -> int:
    """A CSV like a real upload: numbers in mixed formats, names, two more variables."""
    rng = random.Random(rows)
    numbers = rng.sample(range(10**9), rows)  # distinct
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("Mobile Number,Name,Policy ID,City\r\n")
        for i, n in enumerate(numbers):
            if i % INVALID_EVERY == 999:
                number = "not a number"
            elif i % 3 == 0:
                number = f"+91 9{n:09d}"
            elif i % 3 == 1:
                number = f"9{n:09d}"
            else:
                number = f"+919{n:09d}"
            f.write(f'{number},"Customer {i}",POL-{i:07d},Bengaluru\r\n')
    return path.stat().st_size


async def child(url: str, csv_path: Path, invalid_dir: Path) -> dict[str, Any]:
    from callwright.db.engine import create_engine
    from callwright.db.migrate import upgrade
    from callwright.db.repositories import contacts as repo
    from callwright.db.unit_of_work import UnitOfWork
    from callwright.services.contact_import import import_contacts

    engine = create_engine(url)
    await upgrade(engine)
    uow = UnitOfWork(engine)
    ws = str(uuid.uuid4())
    variables = {"callee_name": "Name", "policy_id": "Policy ID", "city": "City"}
    async with uow.begin() as session:
        list_id = (
            await repo.create_list(
                session, ws, name="bench", country_code="+91", variables_map=variables
            )
        ).id
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu_started = time.perf_counter(), time.process_time()
    with csv_path.open("rb") as f:
        result = await import_contacts(
            uow, ws, list_id, f, variables_map=variables, country_code="+91",
            remove_invalid_rows=True, max_rows=2_000_000, max_bytes=500 << 20,
            invalid_rows_dir=invalid_dir,
        )  # fmt: skip
    seconds = time.perf_counter() - started
    import_cpu = time.process_time() - cpu_started  # all threads: parse, sqlite, asyncpg
    async with uow() as session:
        stored = await repo.count_contacts(session, ws, list_id)
    await engine.dispose()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": round(seconds, 2),
        "rows_per_s": round(result.total_rows / seconds),
        "stored": stored,
        "rejected": result.failed_rows,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "baseline_rss_mb": round(baseline, 1),
        "import_cpu_s": round(import_cpu, 2),
        "process_cpu_s": round(cpu.ru_utime + cpu.ru_stime, 2),
    }


def run_child(url: str, csv_path: Path, invalid_dir: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, str(csv_path), str(invalid_dir)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def psql(sql: str) -> None:
    subprocess.run(["psql", PG_ADMIN, "-q", "-c", sql], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--child", nargs=3, metavar=("URL", "CSV", "DIR"))
    parser.add_argument("--generate", nargs=2, metavar=("CSV", "ROWS"))
    args = parser.parse_args()
    if args.generate:
        print(generate(Path(args.generate[0]), int(args.generate[1])))
        return
    if args.child:
        url, csv_path, invalid_dir = args.child
        print(json.dumps(asyncio.run(child(url, Path(csv_path), Path(invalid_dir)))))
        return

    out: dict[str, Any] = {
        "bench": "csv_import",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    with tempfile.TemporaryDirectory(prefix="cw-csv-bench-") as tmp:
        root = Path(tmp)
        for size in (int(s) for s in args.sizes.split(",")):
            label = f"{size // 1000}k" if size < 1_000_000 else f"{size // 1_000_000}m"
            csv_path = root / f"contacts_{label}.csv"
            # In a process of its own too: a child's getrusage peak includes its parent's peak
            # at fork time, so the parent must stay small.
            made = subprocess.run(
                [sys.executable, __file__, "--generate", str(csv_path), str(size)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            out[f"csv_{label}_mb"] = round(int(made.stdout) / 1e6, 1)
            if args.db in ("sqlite", "both"):
                url = f"sqlite+aiosqlite:///{root / f'bench_{label}.db'}"
                out[f"sqlite_{label}"] = run_child(url, csv_path, root / "invalid")
            if args.db in ("postgres", "both"):
                name = f"cw_bench_csv_{uuid.uuid4().hex[:8]}"
                psql(f"CREATE DATABASE {name}")
                try:
                    url = "postgresql+asyncpg://" + PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0]
                    out[f"postgres_{label}"] = run_child(f"{url}/{name}", csv_path, root / "inv")
                finally:
                    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            csv_path.unlink()
    for db in ("sqlite", "postgres"):
        if f"{db}_100k" in out:
            out[f"{db}_100k_seconds"] = out[f"{db}_100k"]["seconds"]
        if f"{db}_1m" in out:
            out[f"{db}_1m_peak_rss_mb"] = out[f"{db}_1m"]["peak_rss_mb"]
    out["goals"] = {"100k_seconds": 5, "1m_peak_rss_mb": 300}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
