"""The dial log: append-only, fsynced JSON lines that other processes read as ground truth."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from callwright.providers.base import DialOutcome
from callwright.sim.network import (
    DialRecord,
    SimNetwork,
    max_concurrent_calls,
    read_dial_log,
)


async def test_log_folds_events_into_records(tmp_path: Path) -> None:
    net = SimNetwork(log_dir=tmp_path)
    await net.record_dial(provider_call_id="a", call_id="c1", from_number="+1", to_number="+2")
    await net.record_dial(provider_call_id="b", call_id="c2", from_number="+1", to_number="+3")
    await net.record_failure("b", DialOutcome.BUSY, "busy line")
    await net.record_answer("a")
    await net.record_hangup("a", by="callee")
    await net.record_hangup("a", by="agent")  # the later hang-up is not recorded

    on_disk = read_dial_log(tmp_path)
    assert on_disk == net.records()
    a, b = on_disk
    assert (a.call_id, a.outcome, a.ended_by) == ("c1", DialOutcome.ANSWERED, "callee")
    assert a.dialed_at_mono <= (a.answered_at_mono or 0) <= (a.ended_at_mono or 0)
    assert (b.outcome, b.detail, b.ended_by) == (DialOutcome.BUSY, "busy line", "network")
    lines = (tmp_path / "dials.jsonl").read_text().splitlines()
    events = [json.loads(line)["event"] for line in lines]
    assert events == ["dial", "dial", "failed", "answered", "hangup"]
    assert net.active_calls() == 0
    assert net.max_concurrent() == 2
    assert [s.active for s in net.timeline()] == [1, 2, 1, 0]


async def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    net = SimNetwork(log_dir=tmp_path)
    await net.record_dial(provider_call_id="a", call_id="c1", from_number="+1", to_number="+2")
    with (tmp_path / "dials.jsonl").open("a") as f:
        f.write('{"event":"dial","provider_call_id":"b","call')  # writer killed mid-line
    assert [r.provider_call_id for r in read_dial_log(tmp_path)] == ["a"]


def _rec(key: str, start: float, end: float | None) -> DialRecord:
    return DialRecord(key, key, "+1", "+2", start, "", 1, ended_at_mono=end)


def test_max_concurrent_calls() -> None:
    assert max_concurrent_calls([]) == 0
    assert max_concurrent_calls([_rec("a", 0, 2), _rec("b", 1, 3), _rec("c", 2.5, None)]) == 2
    # a line freed at t=2 and taken at t=2 is reuse, not overlap
    assert max_concurrent_calls([_rec("a", 0, 2), _rec("b", 2, 3)]) == 1
    assert max_concurrent_calls([_rec("a", 0, None), _rec("b", 5, None)]) == 2


_CHILD = """
import asyncio, sys
from pathlib import Path
from callwright.providers.base import DialRequest
from callwright.providers.telephony.sim import SimTelephony
from callwright.sim.network import SimNetwork

async def no_engines():
    raise AssertionError("a no-answer number needs no callee")

async def main():
    sim = SimTelephony(network=SimNetwork(log_dir=Path(sys.argv[1])), engines=no_engines)
    task = asyncio.create_task(sim.dial(DialRequest(
        call_id="call-1", from_number="+15550100000", to_number="+15551230002",
        ring_timeout_s=600)))
    while not (Path(sys.argv[1]) / "dials.jsonl").exists():
        await asyncio.sleep(0.01)
    print("ringing", flush=True)
    await task

asyncio.run(main())
"""


def test_dial_survives_kill_9_and_is_read_by_another_process(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ringing"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    (record,) = read_dial_log(tmp_path)
    assert (record.call_id, record.to_number, record.pid) == ("call-1", "+15551230002", child.pid)
    assert record.outcome is None and record.ended_at_mono is None  # died while ringing
    assert record.dialed_at_mono <= time.monotonic()  # one clock for every process


async def test_concurrent_appenders_keep_whole_lines(tmp_path: Path) -> None:
    nets = [SimNetwork(log_dir=tmp_path) for _ in range(4)]
    await asyncio.gather(
        *(
            n.record_dial(
                provider_call_id=f"{i}-{j}", call_id=f"{i}-{j}", from_number="+1", to_number="+2"
            )
            for i, n in enumerate(nets)
            for j in range(25)
        )
    )
    records = read_dial_log(tmp_path)
    assert len(records) == 100
    assert len({r.provider_call_id for r in records}) == 100
    assert max_concurrent_calls(records) == 100
