#!/usr/bin/env python3
"""How many simultaneous SIP calls one callwright process carries with RTP sent on time.

* sipp plays the trunk's callee (``tests/sip/scenarios/uas_answer.xml``): it answers every
  call and echoes the RTP it receives (``-rtp_echo``), so media flows both ways.
* callwright places N calls through the ``sip`` provider's user agent and runs a real
  :class:`CallSession` on each answered :class:`SipCall`, with instant fake engines from
  :mod:`callwright.testing` (energy VAD, scripted STT/LLM) and an instant tone TTS, all
  sharing one :class:`MediaClock`. The agent talks for the whole call (a long greeting; it
  does not barge in on its own echo), then we hang up (BYE).
* Lateness: every RTP packet's send time is recorded; within each talk spurt, the k-th
  packet is due at ``start + 20 ms * k`` where ``start`` is the earliest schedule the spurt
  fits; lateness is how far after that a packet left (a clock that fell behind and skipped
  ticks makes the rest of the spurt late). A call is *on time* when its p99 lateness is
  under 10 ms. Also reported: ``tick_lateness_ms``, send time minus the ideal time of the
  media-clock tick that sent the packet (as bench/concurrency.py measures), and
  ``timer_lag_ms``, how late a bare 20 ms sleep wakes in the same loop: the machine's own
  scheduling noise, which on a shared machine bounds everything else.

Usage:  .venv/bin/python bench/sip_calls.py --n 100 --seconds 15
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import resource
import shutil
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from callwright.media.clock import MediaClock  # noqa: E402
from callwright.media.config import CallRules, Engines, SessionConfig, TurnSettings  # noqa: E402
from callwright.media.runtime import tune_gc_for_media  # noqa: E402
from callwright.media.session import CallSession  # noqa: E402
from callwright.providers.base import SAMPLE_RATE_HZ, DialOutcome, DialRequest  # noqa: E402
from callwright.providers.telephony.sip import SipTelephony  # noqa: E402
from callwright.sip import SipCall, UaConfig  # noqa: E402
from callwright.testing import FakeSTT, FakeVAD, ScriptedLLM  # noqa: E402

SCENARIO = ROOT / "tests" / "sip" / "scenarios" / "uas_answer.xml"
FRAME_S = 0.020
GREETING = "Hello, this is the benchmark agent speaking for a long while. " * 6


class ToneTTS:
    """Instant TTS whose audio survives the 8 kHz line: 300 Hz, 50 ms per 4 characters."""

    async def synthesize(self, text: str) -> AsyncGenerator[bytes, None]:
        n = int(SAMPLE_RATE_HZ * 0.05 * max(1, len(text) // 4))
        t = np.arange(n) / SAMPLE_RATE_HZ
        yield (np.sin(2 * np.pi * 300 * t) * 8000).astype("<i2").tobytes()


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lateness_s(send_times: list[float]) -> list[float]:
    """Per packet: how late it left against its talk spurt's 20 ms schedule. The first
    packet of a spurt leaves at once, between ticks (the session's playout sends it without
    waiting for the clock); the rest are due on the clock's 20 ms grid, anchored at the
    earliest grid the spurt fits."""
    out: list[float] = []
    spurt: list[float] = []
    for t in [*send_times, float("inf")]:
        if spurt and t - spurt[-1] > 0.06:
            ticks = spurt[1:]
            if ticks:
                anchor = min(x - i * FRAME_S for i, x in enumerate(ticks))
                out.extend(x - i * FRAME_S - anchor for i, x in enumerate(ticks))
            spurt = []
        spurt.append(t)
    return out


async def one_call(
    telephony: SipTelephony, clock: MediaClock, index: int, seconds: float
) -> dict[str, Any]:
    await asyncio.sleep(index * 0.02)  # 50 calls per second
    dialed = await telephony.dial(
        DialRequest(
            call_id=f"bench-{index}", from_number="+15550100000", to_number=f"+1415555{index:04d}"
        )
    )
    if dialed.outcome is not DialOutcome.ANSWERED or not isinstance(dialed.stream, SipCall):
        return {"answered": False, "outcome": f"{dialed.outcome.value}:{dialed.detail}"}
    call = dialed.stream
    tick_late: list[float] = []
    forward = call.send

    def send(frame: bytes) -> None:  # how late after its clock tick's ideal time it leaves
        if clock.in_tick:
            tick_late.append(time.monotonic() - clock.scheduled_s)
        forward(frame)

    call.send = send  # type: ignore[method-assign]
    config = SessionConfig(
        engines=Engines(
            vad=FakeVAD(),
            stt=FakeSTT(texts=["Tell me more."]),
            llm=ScriptedLLM(["Sure, here is more about it."]),
            tts=ToneTTS(),
        ),
        system_prompt="bench",
        intro_message=GREETING,
        call_id=f"bench-{index}",
        record=False,
        rules=CallRules(max_call_length_s=seconds + 30),
        turns=TurnSettings(interruptible=False),
    )
    session = asyncio.create_task(CallSession(config=config, stream=call, clock=clock).run())
    await asyncio.sleep(seconds)
    await call.hangup()
    await session
    late = lateness_s(call.rtp.stats.send_times or [])
    return {
        "answered": True,
        "late": late,
        "tick_late": tick_late,
        "sent": call.rtp.stats.sent,
        "received": call.rtp.stats.received,
    }


async def probe_lag(lags: list[float]) -> None:
    """How late a bare 20 ms sleep wakes in this loop: the machine's own scheduling noise
    (other processes on the cores), to read the RTP lateness against."""
    while True:
        start = time.monotonic()
        await asyncio.sleep(FRAME_S)
        lags.append(time.monotonic() - start - FRAME_S)


class FailedStatuses(logging.Handler):
    """Collects the SIP status of calls the provider reports as failed (its info log)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.statuses: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("SIP call") and isinstance(record.args, tuple):
            self.statuses[f"{record.args[1]} {record.args[2]}"] += 1


def _errors_and_cleanup(workdir: tempfile.TemporaryDirectory[str]) -> str:
    """sipp's error log (why it exited non-zero), then remove its working directory."""
    text = "".join(p.read_text(errors="replace") for p in Path(workdir.name).glob("*_errors.log"))
    workdir.cleanup()
    return text


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


async def main(n: int, seconds: float) -> dict[str, Any]:
    if shutil.which("sipp") is None:
        raise SystemExit("sipp is not installed (apt-get install sip-tester)")
    port = free_udp_port()
    workdir = tempfile.TemporaryDirectory(prefix="sip-bench-")
    work = Path(workdir.name)
    sipp = await asyncio.create_subprocess_exec(
        "sipp", "-sf", str(SCENARIO), "-i", "127.0.0.1", "-p", str(port),
        "-mp", str(free_udp_port()), "-rtp_echo", "-m", str(n), "-l", str(n),
        "-nostdin", "-trace_err",
        "-timeout", f"{int(seconds + 60)}s",
        cwd=work, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(0.3)
    base = random.randrange(20_000, 50_000, 1000)
    telephony = SipTelephony(
        config=UaConfig(
            bind_host="127.0.0.1",
            proxy=("127.0.0.1", port),
            domain=f"127.0.0.1:{port}",
            rtp_port_min=base,
            rtp_port_max=base + 4 * n + 100,
            record_rtp_send_times=True,
        )
    )
    failed = FailedStatuses()
    tune_gc_for_media()  # as `callwright serve` does once started
    provider_log = logging.getLogger("callwright.providers.telephony.sip")
    provider_log.setLevel(logging.INFO)
    provider_log.addHandler(failed)
    cpu0, wall0 = time.process_time(), time.monotonic()
    lags: list[float] = []
    probe = asyncio.create_task(probe_lag(lags))
    try:
        async with MediaClock.running() as clock:
            results = await asyncio.gather(
                *(one_call(telephony, clock, i, seconds) for i in range(n)), return_exceptions=True
            )
    finally:
        probe.cancel()
        await telephony.aclose()
        try:
            await asyncio.wait_for(sipp.wait(), 10)
        except TimeoutError:
            sipp.kill()
            await sipp.wait()
    cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0) * 100
    sipp_errors = await asyncio.to_thread(_errors_and_cleanup, workdir)
    calls = [r for r in results if isinstance(r, dict) and r.get("answered")]
    errors = [repr(r) for r in results if isinstance(r, BaseException)]
    late = [x for r in calls for x in r["late"]]
    tick_late = [x for r in calls for x in r["tick_late"]]
    on_time = [r for r in calls if r["late"] and pct(r["late"], 99) < 0.010 and r["received"] > 0]
    return {
        "bench": "sip_calls",
        "n": n,
        "seconds": seconds,
        "answered": len(calls),
        "carried_on_time": len(on_time),
        "errors": errors[:3],
        "unanswered": dict(
            Counter(r["outcome"] for r in results if isinstance(r, dict) and not r.get("answered"))
        ),
        "failed_sip_statuses": dict(failed.statuses),
        "rtp_sent": sum(r["sent"] for r in calls),
        "rtp_received": sum(r["received"] for r in calls),
        "lateness_ms": {
            "p50": round(pct(late, 50) * 1000, 2),
            "p99": round(pct(late, 99) * 1000, 2),
            "max": round(max(late, default=0.0) * 1000, 2),
        },
        "tick_lateness_ms": {
            "p50": round(pct(tick_late, 50) * 1000, 2),
            "p99": round(pct(tick_late, 99) * 1000, 2),
        },
        "timer_lag_ms": {
            "p50": round(pct(lags, 50) * 1000, 2),
            "p99": round(pct(lags, 99) * 1000, 2),
        },
        "cpu_pct": round(cpu, 1),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cores": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews timing
        "sipp_exit": sipp.returncode,
        "sipp_errors": sipp_errors[:300],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.n, args.seconds))))
