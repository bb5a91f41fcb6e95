"""Worker heartbeats and the recovery supervisor.

DBOS recovers a process's in-flight (PENDING) workflows only when a process with the same
executor id starts again. A machine that dies for good would keep holding its queue slots.
So every worker writes a heartbeat row into ``callwright_job_executors`` in the system
database, and every worker sweeps that table: an executor silent for longer than
``silence_s`` is claimed (its row deleted in one conditional statement, so exactly one
live worker wins) and its PENDING workflows are handed back to their queues.

Times are the database server's clock, so skew between machines does not matter.
A zombie that wakes up after being recovered is tolerated: DBOS's checkpoints reject the
duplicate outcome, and the dial ledger blocks duplicate side effects.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import sqlalchemy as sa

log = logging.getLogger(__name__)


def executors_table(schema: str | None) -> sa.Table:
    """The heartbeat table, in ``schema`` (PostgreSQL: DBOS's schema; SQLite: None)."""
    return sa.Table(
        "callwright_job_executors",
        sa.MetaData(schema=schema),
        sa.Column("executor_id", sa.String(200), primary_key=True),
        sa.Column("heartbeat_at_ms", sa.BigInteger, nullable=False),
    )


Recover = Callable[[str], Awaitable[int]]
"""Hand the PENDING workflows of one executor back to their queues; return how many."""


def sync_url(system_database_url: str) -> str:
    """The synchronous SQLAlchemy URL for the system database (psycopg 3 for PostgreSQL,
    the driver DBOS itself uses)."""
    url = sa.make_url(system_database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _now_ms(dialect: str) -> sa.ColumnElement[int]:
    if dialect == "postgresql":
        return sa.cast(sa.func.extract("epoch", sa.func.clock_timestamp()) * 1000, sa.BigInteger)
    # SQLite: julianday('now') has millisecond precision.
    return sa.cast((sa.func.julianday("now") - 2440587.5) * 86400000, sa.BigInteger)


class ExecutorHeartbeats:
    """The heartbeat table. Methods block (database I/O): call them in a thread."""

    def __init__(self, *, system_database_url: str, schema: str = "dbos") -> None:
        url = sync_url(system_database_url)
        sqlite = url.startswith("sqlite")
        # SQLite: wait for DBOS's writers rather than fail with "database is locked".
        connect_args = {"timeout": 30} if sqlite else {}
        # Pinged before use (one round trip per beat): a connection the server dropped would
        # otherwise cost a missed heartbeat.
        self._engine = sa.create_engine(
            url, pool_size=1, pool_pre_ping=True, connect_args=connect_args
        )
        self._dialect = self._engine.dialect.name
        self._table = executors_table(None if sqlite else schema)

    def create_table(self) -> None:
        """Create the table (and on PostgreSQL its schema) if missing."""
        with self._engine.begin() as conn:
            if self._table.schema is not None:
                conn.execute(sa.schema.CreateSchema(self._table.schema, if_not_exists=True))
            self._table.create(conn, checkfirst=True)

    def beat(self, executor_id: str) -> None:
        """Record that ``executor_id`` is alive now."""
        now = _now_ms(self._dialect)
        with self._engine.begin() as conn:
            updated = conn.execute(
                sa.update(self._table)
                .where(self._table.c.executor_id == executor_id)
                .values(heartbeat_at_ms=now)
            ).rowcount
            if not updated:
                conn.execute(
                    sa.insert(self._table).from_select(
                        ["executor_id", "heartbeat_at_ms"],
                        sa.select(sa.literal(executor_id), now),
                    )
                )

    def silent_executors(self, *, own_id: str, silence_s: float) -> list[tuple[str, int]]:
        """Executors (other than ``own_id``) whose last heartbeat is older than ``silence_s``."""
        cutoff = _now_ms(self._dialect) - int(silence_s * 1000)
        with self._engine.begin() as conn:
            rows = conn.execute(
                sa.select(self._table.c.executor_id, self._table.c.heartbeat_at_ms).where(
                    self._table.c.executor_id != own_id,
                    self._table.c.heartbeat_at_ms < cutoff,
                )
            ).all()
        return [(str(r[0]), int(r[1])) for r in rows]

    def claim(self, executor_id: str, heartbeat_at_ms: int) -> bool:
        """Take over a silent executor: delete its row if it has not beaten since we looked.
        True for exactly one caller."""
        with self._engine.begin() as conn:
            deleted = conn.execute(
                sa.delete(self._table).where(
                    self._table.c.executor_id == executor_id,
                    self._table.c.heartbeat_at_ms == heartbeat_at_ms,
                )
            ).rowcount
        return bool(deleted)

    def unclaim(self, executor_id: str, heartbeat_at_ms: int) -> None:
        """Put a claimed row back (recovery failed), so the next sweep tries again."""
        with self._engine.begin() as conn:
            exists = conn.execute(
                sa.select(self._table.c.executor_id).where(self._table.c.executor_id == executor_id)
            ).first()
            if exists is None:
                conn.execute(
                    sa.insert(self._table).values(
                        executor_id=executor_id, heartbeat_at_ms=heartbeat_at_ms
                    )
                )

    def close(self) -> None:
        self._engine.dispose()


class RecoverySupervisor:
    """Beats for this executor and recovers silent ones, every ``interval_s``."""

    def __init__(
        self,
        *,
        heartbeats: ExecutorHeartbeats,
        executor_id: str,
        recover: Recover,
        interval_s: float,
        silence_s: float,
    ) -> None:
        if silence_s <= interval_s:
            raise ValueError("silence_s must exceed the heartbeat interval_s")
        self._hb = heartbeats
        self._executor_id = executor_id
        self._recover = recover
        self._interval_s = interval_s
        self._silence_s = silence_s
        self.recovered: list[str] = []  # executors this worker has recovered, oldest first

    async def sweep_once(self) -> list[str]:
        """Beat, then recover every silent executor this worker manages to claim.
        Returns the ids recovered."""
        await asyncio.to_thread(self._hb.beat, self._executor_id)
        silent = await asyncio.to_thread(
            self._hb.silent_executors, own_id=self._executor_id, silence_s=self._silence_s
        )
        recovered: list[str] = []
        for executor_id, seen_ms in silent:
            if not await asyncio.to_thread(self._hb.claim, executor_id, seen_ms):
                continue  # another worker claimed it, or it came back
            try:
                count = await self._recover(executor_id)
            except Exception:
                log.exception("recovering executor %s failed; will retry", executor_id)
                await asyncio.to_thread(self._hb.unclaim, executor_id, seen_ms)
                continue
            log.warning(
                "executor %s silent > %.0f s: recovered %d jobs",
                executor_id,
                self._silence_s,
                count,
            )
            recovered.append(executor_id)
        self.recovered.extend(recovered)
        return recovered

    async def run(self) -> None:
        """Sweep forever; survive database errors (the next sweep retries)."""
        while True:
            try:
                await self.sweep_once()
            except Exception:
                log.exception("job supervisor sweep failed")
            await asyncio.sleep(self._interval_s)
