"""DBOS's configuration and its system database: where it lives (a SQLite file beside the
app's, or the app's own PostgreSQL database) and preparing it before launch (schema, SQLite
settings, our queues' caps)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from dbos import DBOS, DBOSClient
from sqlalchemy import make_url

from callwright.jobs.registry import JobRegistry


@dataclass(frozen=True, slots=True, kw_only=True)
class DbosJobsConfig:
    """How to run DBOS. ``system_database_url``: ``sqlite:///path/jobs.sqlite`` or
    ``postgresql://user@host/db`` (the database must be reachable; DBOS creates its
    ``dbos`` schema). ``application_version`` must be equal on every process sharing the
    system database (DBOS only recovers and dequeues work of its own version): bump it
    when a handler's sequence of steps changes incompatibly."""

    system_database_url: str
    executor_id: str = "local"
    app_name: str = "callwright"
    system_schema: str = "dbos"  # PostgreSQL schema for DBOS's tables and our heartbeats
    application_version: str = "callwright-1"
    heartbeat_interval_s: float = 10.0
    executor_silence_s: float = 60.0
    log_level: str = "WARNING"
    # Queues this process dequeues from; None = all, () = enqueue-only (e.g. API nodes).
    listen_queues: tuple[str, ...] | None = None


def system_database_url_for(*, app_database_url: str, data_dir: Path) -> str:
    """The DBOS system database for an app database URL: the same PostgreSQL database
    (DBOS keeps to its own schema), or a separate SQLite file beside the app's (two files,
    so the job engine's writes do not queue behind the app's on one SQLite lock)."""
    url = app_database_url.strip()
    if url.startswith(("postgresql", "postgres://")):
        return "postgresql://" + url.split("://", 1)[1]
    return f"sqlite:///{(data_dir / 'jobs.sqlite').resolve()}"


def prepare_system_database(cfg: DbosJobsConfig, registry: JobRegistry) -> None:
    """Create/migrate DBOS's schema and upsert our queues' caps (blocking)."""
    DBOS.migrate(cfg.system_database_url, schema=cfg.system_schema)
    sqlite_path = sqlite_file(cfg.system_database_url)
    if sqlite_path is not None:
        # DBOS leaves SQLite in rollback-journal mode, several fsyncs per commit, and every
        # step of every job commits. WAL is a property of the file: set once, before launch.
        conn = sqlite3.connect(sqlite_path, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()
    client = DBOSClient(
        system_database_url=cfg.system_database_url,
        dbos_system_schema=cfg.system_schema,
        application_name=cfg.app_name,
    )
    try:
        for q in registry.queues.values():
            client.register_queue(
                q.name,
                global_concurrency=q.concurrency,
                worker_concurrency=q.worker_concurrency,
                partition_concurrency=q.partition_concurrency,
                partition_limiter=(
                    {"limit": q.partition_rate.limit, "period": q.partition_rate.period_s}
                    if q.partition_rate
                    else None
                ),
                limiter={"limit": q.rate.limit, "period": q.rate.period_s} if q.rate else None,
                polling_interval_sec=q.polling_interval_s,
                on_conflict="always_update",
            )
    finally:
        client.destroy()


def sqlite_file(system_database_url: str) -> str | None:
    url = make_url(system_database_url)
    return url.database if url.get_backend_name() == "sqlite" and url.database else None


def sqlite_connection(path: str) -> sqlite3.Connection:
    """A connection for DBOS's SQLite system database (DBOS adds its own settings on top).
    ``synchronous=NORMAL`` under WAL: a commit survives the process being killed, as the
    app database's do (a power cut may lose the last ones; re-running a step is safe)."""
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn
