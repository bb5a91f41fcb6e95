#!/usr/bin/env python3
"""Concurrent Twilio Media Streams on loopback: are 20 ms frames carried on time both ways?

N calls are placed through the Twilio provider against the fake Twilio of the tests
(tests/twilio/fake_twilio.py: its REST API, signed status callbacks, a Media Streams client
sending 20 ms μ-law frames on an absolute schedule and playing what it receives at 20 ms per
frame, echoing marks). For ``--seconds`` every call carries audio both ways: the agent side
sends one 16 kHz frame per call every 20 ms from one shared pacer (as the media clock does),
the fake sends the caller's. Both ends run in this one process and event loop, so the CPU
figure counts the fake's JSON/base64 work too (a real deployment carries only our half).

Figures: dial time p50/p99; agent→Twilio jitter p50/p99/max (arrival of each media message
at the fake minus its place on a 20 ms grid anchored at the call's earliest-arriving frame);
Twilio→agent jitter the same way at ``receive``; frames lost; marks outstanding at the end
(``written - played`` frames); the pacer's own wake-up lateness p50/p99 (event-loop lag: on a
loaded machine it explains the jitter); CPU % of one core.

    .venv/bin/python bench/twilio_streams.py --calls 10,50,100 --seconds 10

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.twilio.conftest import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    SECRET,
    agent_frames,
    make_telephony,
    platform_app,
)
from tests.twilio.fake_twilio import FakeTwilio, bound_socket, serve  # noqa: E402

from callwright.domain.ids import new_id  # noqa: E402
from callwright.providers.base import FRAME_BYTES, DialOutcome, DialRequest  # noqa: E402
from callwright.providers.telephony.twilio_gateway import TwilioGateway  # noqa: E402
from callwright.providers.telephony.twilio_stream import TwilioMediaStream  # noqa: E402

FRAME_S = 0.02


def jitter_ms(times: list[float]) -> list[float]:
    """Each arrival's lateness against a 20 ms grid anchored so the earliest is on time."""
    if not times:
        return []
    offsets = [t - i * FRAME_S for i, t in enumerate(times)]
    base = min(offsets)
    return [(o - base) * 1000 for o in offsets]


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


async def run(calls: int, seconds: float) -> dict[str, object]:
    sock = bound_socket()
    host, port = sock.getsockname()[:2]
    gateway = TwilioGateway(public_url=f"http://{host}:{port}", secret=SECRET)
    server, serving, _ = await serve(platform_app(gateway), sock=sock)
    try:
        async with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as twilio:
            telephony = make_telephony(gateway, api_base_url=twilio.base_url)

            async def dial(n: int) -> tuple[float, TwilioMediaStream]:
                t0 = time.monotonic()
                result = await telephony.dial(
                    DialRequest(
                        call_id=new_id(),
                        from_number="+14155550000",
                        to_number=f"+141556{1000 + n:05d}",  # no scripted suffix
                        ring_timeout_s=30,
                    )
                )
                assert result.outcome is DialOutcome.ANSWERED and result.stream is not None
                assert isinstance(result.stream, TwilioMediaStream)
                return time.monotonic() - t0, result.stream

            dialed = await asyncio.gather(*(dial(n) for n in range(calls)))
            streams = [s for _, s in dialed]
            received: list[list[float]] = [[] for _ in streams]

            async def listen(i: int, stream: TwilioMediaStream) -> None:
                while (frame := await stream.receive()) is not None:
                    assert len(frame) == FRAME_BYTES
                    received[i].append(time.monotonic())

            listeners = [asyncio.create_task(listen(i, s)) for i, s in enumerate(streams)]
            frames = agent_frames(440, seconds)
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            wall0 = time.monotonic()
            pacer_late: list[float] = []  # event-loop lag: how late each tick woke
            for tick, frame in enumerate(frames):  # one pacer for every call, as the clock
                pacer_late.append((time.monotonic() - wall0 - tick * FRAME_S) * 1000)
                for stream in streams:
                    stream.send(frame)
                await asyncio.sleep(max(0.0, wall0 + (tick + 1) * FRAME_S - time.monotonic()))
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            wall = time.monotonic() - wall0
            await asyncio.sleep(0.5)  # let the last marks come back
            outstanding = sum(s.written_frames - s.played_frames for s in streams)
            written = sum(s.written_frames for s in streams)
            out = [
                j
                for call in twilio.calls.values()
                for j in jitter_ms([t for t in call.media_times if t >= wall0])
            ]
            inbound = [j for times in received for j in jitter_ms([t for t in times if t >= wall0])]
            expected_in = int(wall / FRAME_S) * calls
            got_in = sum(
                len([t for t in times if wall0 <= t <= wall0 + wall]) for times in received
            )
            for stream in streams:
                await stream.hangup()
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
            cpu_s = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
            dial_s = [d for d, _ in dialed]
            return {
                "calls": calls,
                "seconds": round(wall, 2),
                "dial_ms_p50": pct([d * 1000 for d in dial_s], 0.5),
                "dial_ms_p99": pct([d * 1000 for d in dial_s], 0.99),
                "out_jitter_ms_p50": pct(out, 0.5),
                "out_jitter_ms_p99": pct(out, 0.99),
                "out_jitter_ms_max": pct(out, 1.0),
                "out_frames": written,
                "out_frames_expected": len(frames) * calls,
                "in_jitter_ms_p50": pct(inbound, 0.5),
                "in_jitter_ms_p99": pct(inbound, 0.99),
                "in_frames": got_in,
                "in_frames_expected": expected_in,
                "unplayed_frames_at_end": outstanding,
                "pacer_late_ms_p50": pct(pacer_late, 0.5),
                "pacer_late_ms_p99": pct(pacer_late, 0.99),
                "cpu_percent": round(100 * cpu_s / wall, 1),
            }
    finally:
        await gateway.aclose()
        server.should_exit = True
        await serving


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", default="10,50")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    results = []
    for n in (int(x) for x in args.calls.split(",")):
        results.append(await run(n, args.seconds))
    print(
        json.dumps(
            {
                "bench": "twilio_streams",
                "note": "fake Twilio and platform in one process on loopback",
                "runs": results,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
