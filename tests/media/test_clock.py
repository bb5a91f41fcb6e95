"""The shared media clock and the cross-call VAD batcher."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence

import pytest

from callwright.media.clock import MediaClock
from callwright.media.vad_batch import BatchedVAD
from callwright.testing import FakeVAD, marker


class Sink:
    def __init__(self, fail_at: int | None = None) -> None:
        self.ticks: list[tuple[float, float]] = []
        self.fail_at = fail_at
        self.error: BaseException | None = None

    def on_tick(self, now_s: float, scheduled_s: float) -> None:
        self.ticks.append((now_s, scheduled_s))
        if self.fail_at is not None and len(self.ticks) == self.fail_at:
            raise RuntimeError("boom")

    def on_tick_error(self, exc: BaseException) -> None:
        self.error = exc


async def test_ticks_follow_an_absolute_20ms_schedule_for_every_sink() -> None:
    sinks = [Sink() for _ in range(50)]
    async with MediaClock.running() as clock:
        for s in sinks:
            clock.attach(s)
        await asyncio.sleep(0.5)
        for s in sinks:
            clock.detach(s)
    counts = {len(s.ticks) for s in sinks}
    assert min(counts) >= 20 and max(counts) - min(counts) <= 1
    sched = [sch for _, sch in sinks[0].ticks]
    steps = [round(b - a, 6) for a, b in itertools.pairwise(sched)]
    assert all(abs(st - 0.02) < 1e-6 for st in steps)  # no drift: ideal times, not sleeps
    lateness = sorted(now - sch for s in sinks for now, sch in s.ticks)
    assert lateness[0] >= 0
    assert lateness[len(lateness) // 2] < 0.010


async def test_a_failing_sink_is_detached_and_told_others_keep_ticking() -> None:
    bad, good = Sink(fail_at=3), Sink()
    async with MediaClock.running() as clock:
        clock.attach(bad)
        clock.attach(good)
        await asyncio.sleep(0.2)
        assert clock.sinks == 1
    assert isinstance(bad.error, RuntimeError) and len(bad.ticks) == 3
    assert len(good.ticks) >= 8


class Counting:
    """A stateful 'detector' whose state is the number of frames it has seen."""

    def __init__(self) -> None:
        self.seen = 0


def count_batch(detectors: Sequence[Counting], frames: Sequence[bytes]) -> list[float]:
    assert len({id(d) for d in detectors}) == len(detectors)  # one frame per detector
    out = []
    for d, f in zip(detectors, frames, strict=True):
        d.seen += 1
        out.append(float(d.seen) + FakeVAD().speech_probability(f) / 10)
    return out


async def test_batched_vad_keeps_per_detector_order_and_batches_across_calls() -> None:
    batcher = BatchedVAD(batch_fn=count_batch)
    dets = [Counting() for _ in range(30)]
    got: dict[int, list[tuple[float, float]]] = {i: [] for i in range(30)}
    loud = marker.encode("x")[:640]
    async with batcher.running():
        for k in range(3):
            for i, d in enumerate(dets):
                frame = loud if (i + k) % 2 else bytes(640)
                batcher.submit(d, frame, float(k), lambda f, p, t, i=i: got[i].append((p, t)))
            await asyncio.sleep(0.05)  # one period per frame: one batch per frame
        # a backlog of three frames per call is fed as one chunk per call
        for i, d in enumerate(dets):
            for k in range(3, 6):
                batcher.submit(d, loud, float(k), lambda f, p, t, i=i: got[i].append((p, t)))
        await asyncio.sleep(0.05)
    for i in range(30):
        assert [t for _, t in got[i]] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # arrival order
        assert [round(p) for p, _ in got[i]] == [1, 2, 3, 4, 4, 4]
        assert [round((p % 1) * 10) for p, _ in got[i][:3]] == [(i + k) % 2 for k in range(3)]
    assert batcher.max_batch == 30 and batcher.batches == 4


@pytest.mark.engines
async def test_silero_batched_equals_inline() -> None:
    from callwright.providers.base import EngineSpec
    from callwright.providers.registry import create
    from callwright.providers.vad.silero import speech_probabilities

    sys_path_bench = __import__("pathlib").Path(__file__).parents[2] / "bench"
    import sys

    sys.path.insert(0, str(sys_path_bench))
    try:
        from concurrency import make_speech_clip
    finally:
        sys.path.remove(str(sys_path_bench))
    clip = make_speech_clip(1.0) + bytes(16000)
    frames = [clip[i : i + 640] for i in range(0, len(clip), 640)]
    inline = create("vad", EngineSpec("silero"))
    expected = [inline.speech_probability(f) for f in frames]
    batched = [create("vad", EngineSpec("silero")) for _ in range(4)]
    batcher = BatchedVAD(batch_fn=speech_probabilities)
    got: list[list[float]] = [[] for _ in batched]
    t0 = time.monotonic()
    async with batcher.running():
        for f in frames:
            for i, d in enumerate(batched):
                batcher.submit(d, f, t0, lambda _f, p, _t, i=i: got[i].append(p))
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
    assert batcher.max_batch == 4
    for series in got:
        assert len(series) == len(frames)
        # frames that arrived together share the newest probability, which is exactly
        # the inline detector's probability after the same audio
        for p in series:
            assert min(abs(p - e) for e in expected) < 1e-4
        assert series[-1] == pytest.approx(expected[-1], abs=1e-4)
    assert max(expected) > 0.9 and expected[-1] < 0.1
