"""The simulated phone network's ledger: who dialed whom, when, and what happened.

Every dial is written to an append-only JSON-lines file (``<log_dir>/dials.jsonl``) one event
per line, each line written with ``O_APPEND`` and fsynced, so the file is ground truth for
"this number was dialed exactly once" even across processes and ``kill -9``. Events of one call
share ``provider_call_id``; :func:`read_dial_log` folds them back into :class:`DialRecord` rows.

Times: ``*_mono`` are ``time.monotonic()`` seconds (CLOCK_MONOTONIC, comparable between
processes on one boot); ``dialed_at_wall`` is wall-clock UTC for people.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callwright.providers.base import DialOutcome

LOG_FILE_NAME = "dials.jsonl"


@functools.cache
def _log_writer() -> ThreadPoolExecutor:
    """One writer thread for every network of the process: appends stay in order, and
    fsync never waits behind unrelated work."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-dial-log")


def default_log_dir() -> Path:
    """``$CALLWRIGHT_DATA_DIR/sim`` (the data directory defaults to ``./.callwright``)."""
    return Path(os.environ.get("CALLWRIGHT_DATA_DIR", ".callwright")) / "sim"


@dataclass(frozen=True, slots=True)
class DialRecord:
    """One dial as the network saw it. ``outcome`` is None while the phone is still ringing."""

    provider_call_id: str
    call_id: str
    from_number: str
    to_number: str
    dialed_at_mono: float
    dialed_at_wall: str
    pid: int
    outcome: DialOutcome | None = None
    detail: str = ""
    answered_at_mono: float | None = None
    ended_at_mono: float | None = None
    ended_by: str | None = None  # "agent" | "callee" | "network" (busy / no answer)


@dataclass(frozen=True, slots=True)
class ConcurrencySample:
    """The number of calls holding a line (ringing or connected) right after ``at_mono``."""

    at_mono: float
    active: int


class SimNetwork:
    """Ledger and line counter of the simulated network. Safe to share between calls and
    threads in one process; several processes may append to the same directory."""

    def __init__(self, *, log_dir: Path | None = None) -> None:
        self._log_path = (log_dir if log_dir is not None else default_log_dir()) / LOG_FILE_NAME
        self._lock = threading.Lock()
        self._records: dict[str, DialRecord] = {}
        self._timeline: list[ConcurrencySample] = []
        self._active = 0

    @property
    def log_path(self) -> Path:
        return self._log_path

    # ------------------------------------------------------------------ writing

    async def record_dial(
        self, *, provider_call_id: str, call_id: str, from_number: str, to_number: str
    ) -> DialRecord:
        """Log a new dial (the phone starts ringing); the call now holds a line."""
        record = DialRecord(
            provider_call_id=provider_call_id,
            call_id=call_id,
            from_number=from_number,
            to_number=to_number,
            dialed_at_mono=time.monotonic(),
            dialed_at_wall=datetime.now(UTC).isoformat(),
            pid=os.getpid(),
        )
        event = {"event": "dial", **_record_fields(record)}
        await self._write(record, event, +1)
        return record

    async def record_answer(self, provider_call_id: str) -> None:
        """Log that the callee picked up."""
        now = time.monotonic()
        record = replace(
            self._get(provider_call_id), outcome=DialOutcome.ANSWERED, answered_at_mono=now
        )
        event = {"event": "answered", "provider_call_id": provider_call_id, "at_mono": now}
        await self._write(record, event, 0)

    async def record_failure(
        self, provider_call_id: str, outcome: DialOutcome, detail: str
    ) -> None:
        """Log a call that never connected (busy, no answer); its line is released."""
        now = time.monotonic()
        record = replace(
            self._get(provider_call_id),
            outcome=outcome,
            detail=detail,
            ended_at_mono=now,
            ended_by="network",
        )
        event = {
            "event": "failed",
            "provider_call_id": provider_call_id,
            "outcome": outcome.value,
            "detail": detail,
            "at_mono": now,
        }
        await self._write(record, event, -1)

    async def record_hangup(self, provider_call_id: str, *, by: str) -> None:
        """Log the end of a connected call (first hang-up wins; later ones are ignored)."""
        now = time.monotonic()
        with self._lock:
            current = self._records[provider_call_id]
            if current.ended_at_mono is not None:
                return
            record = replace(current, ended_at_mono=now, ended_by=by)
            # Claim the end under the lock so a racing hang-up from the other side is a no-op.
            self._records[provider_call_id] = record
        event = {"event": "hangup", "provider_call_id": provider_call_id, "by": by, "at_mono": now}
        await self._write(record, event, -1)

    async def _write(self, record: DialRecord, event: dict[str, Any], line_delta: int) -> None:
        # A thread of the log's own: the loop's shared pool can be busy for seconds (database
        # drivers waiting on locks), and a ledger entry late by that much is a wrong ledger.
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(_log_writer(), self._apply, record, event, line_delta)

    def _get(self, provider_call_id: str) -> DialRecord:
        with self._lock:
            return self._records[provider_call_id]

    def _apply(self, record: DialRecord, event: dict[str, Any], line_delta: int) -> None:
        line = (json.dumps(event, separators=(",", ":")) + "\n").encode()
        with self._lock:
            self._records[record.provider_call_id] = record
            if line_delta:
                self._active += line_delta
                self._timeline.append(ConcurrencySample(time.monotonic(), self._active))
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                # One write per line: O_APPEND makes concurrent appenders interleave by line.
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    # ------------------------------------------------------------------ reading (this process)

    def records(self) -> list[DialRecord]:
        """Dials placed through this network object, oldest first."""
        with self._lock:
            return sorted(self._records.values(), key=lambda r: r.dialed_at_mono)

    def active_calls(self) -> int:
        with self._lock:
            return self._active

    def timeline(self) -> list[ConcurrencySample]:
        """Line count after every change, in order (cap tests read the maximum)."""
        with self._lock:
            return list(self._timeline)

    def max_concurrent(self) -> int:
        return max((s.active for s in self.timeline()), default=0)


# ---------------------------------------------------------------------- reading (any process)


def read_dial_log(log_dir: Path | None = None) -> list[DialRecord]:
    """Fold the on-disk log into one record per dial, oldest first. A torn last line (the
    writer was killed mid-write) is skipped."""
    path = (log_dir if log_dir is not None else default_log_dir()) / LOG_FILE_NAME
    if not path.exists():
        return []
    records: dict[str, DialRecord] = {}
    for event in _events(path.read_text(encoding="utf-8").splitlines()):
        key = str(event.get("provider_call_id", ""))
        kind = event.get("event")
        if kind == "dial":
            records[key] = _record_from(event)
            continue
        current = records.get(key)
        if current is None:
            continue
        at = float(event["at_mono"])
        if kind == "answered":
            records[key] = replace(current, outcome=DialOutcome.ANSWERED, answered_at_mono=at)
        elif kind == "failed":
            records[key] = replace(
                current,
                outcome=DialOutcome(event["outcome"]),
                detail=str(event.get("detail", "")),
                ended_at_mono=at,
                ended_by="network",
            )
        elif kind == "hangup" and current.ended_at_mono is None:
            records[key] = replace(current, ended_at_mono=at, ended_by=str(event["by"]))
    return sorted(records.values(), key=lambda r: r.dialed_at_mono)


def max_dials_within(records: Iterable[DialRecord], window_s: float = 1.0) -> int:
    """Most dials that started within any ``window_s`` span (a carrier's calls per second)."""
    starts = sorted(r.dialed_at_mono for r in records)
    peak, first = 0, 0
    for last, at in enumerate(starts):
        while at - starts[first] >= window_s:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def max_concurrent_calls(records: Iterable[DialRecord]) -> int:
    """Most lines held at once (dial → end; calls still going count as open)."""
    edges: list[tuple[float, int]] = []
    for r in records:
        edges.append((r.dialed_at_mono, +1))
        if r.ended_at_mono is not None:
            edges.append((r.ended_at_mono, -1))
    # Ends sort before starts at the same instant: a line freed and reused is not overlap.
    edges.sort(key=lambda e: (e[0], e[1]))
    active = peak = 0
    for _, delta in edges:
        active += delta
        peak = max(peak, active)
    return peak


def _events(lines: Iterable[str]) -> Iterable[dict[str, Any]]:
    for line in lines:
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict):
            yield event


def _record_fields(record: DialRecord) -> dict[str, Any]:
    return {
        "provider_call_id": record.provider_call_id,
        "call_id": record.call_id,
        "from_number": record.from_number,
        "to_number": record.to_number,
        "dialed_at_mono": record.dialed_at_mono,
        "dialed_at_wall": record.dialed_at_wall,
        "pid": record.pid,
    }


def _record_from(event: dict[str, Any]) -> DialRecord:
    return DialRecord(
        provider_call_id=str(event["provider_call_id"]),
        call_id=str(event["call_id"]),
        from_number=str(event["from_number"]),
        to_number=str(event["to_number"]),
        dialed_at_mono=float(event["dialed_at_mono"]),
        dialed_at_wall=str(event["dialed_at_wall"]),
        pid=int(event["pid"]),
    )
