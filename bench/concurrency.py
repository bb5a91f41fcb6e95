#!/usr/bin/env python3
"""How many simultaneous calls one callwright process carries with 20 ms frames on time.

Mirrors the call shape of the Pipecat anchor (/work/shared/anchors/pipecat_bench.py) so the
two can be read side by side:

* N calls in ONE process / ONE event loop, each a real :class:`CallSession` (receive task,
  VAD + turn logic inline, recorder, rules) sharing one :class:`MediaClock`.
* Caller audio: 20 ms / 16 kHz frames on an absolute real-time schedule — 2.0 s of synthetic
  formant "speech" then 1.5 s of silence, random phase per call. The stream's ``receive``
  waits for each frame's time, as a socket read waits for a packet.
* VAD: ``energy`` (RMS > 500, the anchor's trivial VAD) or ``silero`` (the real ONNX model;
  by default batched across calls, one inference per tick — ``--silero-mode inline`` runs
  one inference per call per window instead).
* Endpoint 200 ms of silence (the anchor's Silero ``stop_secs``); fake STT answers 50 ms
  later; fake LLM streams 6 deltas instantly; fake TTS returns 1 s of audio instantly; the
  reply is played in real time by the media clock.

Per N (fresh child process each):
* out lateness p50/p99/max: for every agent frame sent on a clock tick, send time minus the
  tick's scheduled time (the first frame of a reply leaves at once and counts in turn latency);
* late_40ms frames; turn latency p50/p99: final transcript -> first agent frame sent;
* turns done vs expected; in-lag p50/p99 (how late ``receive`` returned vs its schedule);
* CPU % (100 = one core), RSS and RSS per call.

Usage:  .venv/bin/python bench/concurrency.py --n 50,100,200,300 --seconds 20 --vad energy
Prints one JSON line per N and a final summary line (the largest N with p99 < 10 ms and no
frame > 40 ms late).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

FRAME_MS = 20
SAMPLE_RATE = 16000
SAMPLES_PER_FRAME = 320
SPEECH_FRAMES = 100  # 2.0 s
SILENCE_FRAMES = 75  # 1.5 s
CYCLE_FRAMES = SPEECH_FRAMES + SILENCE_FRAMES
LATE_THRESHOLD_S = 0.040


def make_speech_clip(secs: float, seed: int = 0) -> bytes:
    """Speech-like PCM (consonant noise bursts + formant vowels) that Silero scores as speech
    (same generator as the Pipecat anchor)."""
    import numpy as np

    vowels = [
        (730, 1090, 2440),
        (270, 2290, 3010),
        (300, 870, 2240),
        (530, 1840, 2480),
        (570, 840, 2410),
        (660, 1720, 2410),
    ]
    rng = np.random.default_rng(seed)
    n_total = int(secs * SAMPLE_RATE)
    parts, total = [], 0
    while total < n_total:
        cn = int(SAMPLE_RATE * rng.uniform(0.03, 0.07))
        parts.append(rng.standard_normal(cn) * 0.15 * np.hanning(cn))
        vn = int(SAMPLE_RATE * rng.uniform(0.12, 0.22))
        t = np.arange(vn) / SAMPLE_RATE
        f0 = rng.uniform(100, 140) * (1 - 0.15 * t / t[-1])
        phase = np.cumsum(2 * np.pi * f0 / SAMPLE_RATE)
        formants = vowels[rng.integers(len(vowels))]
        v = np.zeros(vn)
        for h in range(1, 40):
            f = h * f0
            amp = sum(1.0 / (1 + ((f - fi) / (60 + 0.06 * fi)) ** 2) for fi in formants) / h**0.3
            v += amp * np.sin(h * phase)
        v /= np.max(np.abs(v))
        v *= np.minimum(1, np.minimum(t / 0.02, (t[-1] - t) / 0.04)) * 0.6
        parts.append(v)
        total += cn + vn
    sig = np.concatenate(parts)[:n_total]
    sig += 0.003 * rng.standard_normal(len(sig))
    return (sig / np.max(np.abs(sig)) * 0.5 * 32767).astype(np.int16).tobytes()


def make_tone(seconds: float) -> bytes:
    import numpy as np

    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    return (0.3 * 32767 * np.sin(2 * np.pi * 400 * t)).astype(np.int16).tobytes()


class Rec:
    """Process-wide samples, recorded only inside the measurement window."""

    def __init__(self) -> None:
        self.start = float("inf")
        self.end = float("inf")
        self.out_late = array("d")
        self.in_late = array("d")
        self.turn = array("d")
        self.out_frames = 0
        self.transcripts = 0

    def active(self, now: float) -> bool:
        return self.start <= now < self.end


REC = Rec()


def pct(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100.0 * (len(s) - 1))))]


def ms(v: float | None) -> float | None:
    return None if v is None else round(v * 1000.0, 3)


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# ----------------------------------------------------------------------------- one call


class BenchStream:
    """A MediaStream whose caller speaks on a real-time schedule and whose far end plays
    what it is sent. ``receive`` waits for each frame's scheduled time like a socket read."""

    def __init__(
        self, *, clock: Any, speech: list[bytes], silence: bytes, phase: int, t0: float
    ) -> None:
        self._clock = clock
        self._speech = speech
        self._silence = silence
        self._phase = phase
        self._t0 = t0
        self._k = 0
        self.closed = False

    async def receive(self) -> bytes | None:
        if self.closed:
            return None
        ideal = self._t0 + self._k * (FRAME_MS / 1000.0)
        delay = ideal - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        now = time.monotonic()
        if REC.active(now):
            REC.in_late.append(now - ideal)
        idx = (self._k + self._phase) % CYCLE_FRAMES
        self._k += 1
        return self._speech[idx] if idx < SPEECH_FRAMES else self._silence

    def send(self, frame: bytes) -> None:
        now = time.monotonic()
        if REC.active(now):
            REC.out_frames += 1
            if self._clock.in_tick:
                REC.out_late.append(now - self._clock.scheduled_s)

    def clear(self) -> None:
        return None

    async def hangup(self) -> None:
        self.closed = True


class TurnProbe:
    """Observer: final transcript -> first agent frame sent."""

    def __init__(self) -> None:
        self._t_final: float | None = None

    def on_frame(self, frame: Any) -> None:
        from callwright.media.frames import AudioSent, FinalTranscript

        if isinstance(frame, FinalTranscript):
            self._t_final = frame.t_s
            if REC.active(frame.t_s):
                REC.transcripts += 1
        elif isinstance(frame, AudioSent) and frame.first_of_turn and self._t_final is not None:
            if REC.active(frame.t_s):
                REC.turn.append(frame.t_s - self._t_final)
            self._t_final = None


class OneSecondTTS:
    """Instant fake TTS: the same fixed-length tone for any text (the anchor's 1 s reply)."""

    def __init__(self, audio: bytes) -> None:
        self._audio = audio

    def synthesize(self, text: str) -> AsyncIterator[bytes]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[bytes]:
        yield self._audio


async def run_one(n: int, args: argparse.Namespace) -> dict[str, Any]:
    from callwright.media import (
        CallRules,
        CallSession,
        Engines,
        MediaClock,
        SessionConfig,
        TurnSettings,
    )
    from callwright.media.vad_batch import BatchedVAD
    from callwright.testing import FakeSTT, FakeVAD, ScriptedLLM

    clip = make_speech_clip(SPEECH_FRAMES * FRAME_MS / 1000.0)
    step = SAMPLES_PER_FRAME * 2
    speech = [clip[i * step : (i + 1) * step] for i in range(SPEECH_FRAMES)]
    silence = bytes(step)
    reply_audio = make_tone(args.reply_ms / 1000.0)
    rng = random.Random(1234)
    rec_dir = Path(args.rec_dir)

    vad_factory: Any
    batcher: Any = None
    if args.vad == "silero":
        from callwright.providers.base import EngineSpec
        from callwright.providers.registry import create

        def vad_factory() -> Any:
            return create("vad", EngineSpec("silero"))

        if args.silero_mode == "batch":
            from callwright.providers.vad.silero import speech_probabilities

            batcher = BatchedVAD(batch_fn=speech_probabilities)
    else:

        def vad_factory() -> Any:
            return FakeVAD(threshold=500.0)

    turns = TurnSettings(
        endpoint_silence_ms=args.endpoint_ms, speculative_stt_ms=0, speech_start_ms=60
    )
    rules = CallRules(max_call_length_s=3600, idle_timeout_warning_s=600, idle_timeout_end_s=1200)
    rss_base = rss_mb()
    sessions: list[CallSession] = []
    streams: list[BenchStream] = []
    async with MediaClock.running() as clock:
        ctx = batcher.running() if batcher is not None else _null()
        async with ctx, asyncio.TaskGroup() as tg:
            t_build = time.monotonic()
            t0 = time.monotonic() + 0.1
            for i in range(n):
                engines = Engines(
                    vad=vad_factory(),
                    stt=FakeSTT(
                        texts=["i would like to check my order status"],
                        delay_s=args.stt_delay_ms / 1000.0,
                    ),
                    llm=ScriptedLLM(
                        [["Sure, ", "let me ", "check ", "that ", "order ", "for you."]]
                    ),
                    tts=OneSecondTTS(reply_audio),
                )
                cfg = SessionConfig(
                    engines=engines,
                    turns=turns,
                    rules=rules,
                    call_id=f"bench-{i}",
                    record=args.record,
                    recording_path=rec_dir / f"{i}.wav",
                )
                # calls' packets arrive at independent offsets within the 20 ms period, as
                # the anchor's per-call feeders (started one after another) do
                stream = BenchStream(
                    clock=clock,
                    speech=speech,
                    silence=silence,
                    phase=rng.randrange(CYCLE_FRAMES),
                    t0=t0 + rng.uniform(0.0, FRAME_MS / 1000.0),
                )
                session = CallSession(
                    config=cfg,
                    stream=stream,
                    clock=clock,
                    observers=[TurnProbe()],
                    vad_batcher=batcher,
                )
                sessions.append(session)
                streams.append(stream)
                tg.create_task(session.run())
            startup_s = time.monotonic() - t_build
            rss_started = rss_mb()
            warmup = CYCLE_FRAMES * FRAME_MS / 1000.0
            REC.start = time.monotonic() + warmup
            REC.end = REC.start + args.seconds
            await asyncio.sleep(max(0.0, REC.start - time.monotonic()))
            cpu0, wall0 = cpu_seconds(), time.monotonic()
            vad0 = (batcher.batches, batcher.busy_s) if batcher is not None else (0, 0.0)
            ivcsw0 = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw
            await asyncio.sleep(max(0.0, REC.end - time.monotonic()))
            cpu1, wall1 = cpu_seconds(), time.monotonic()
            vad1 = (batcher.batches, batcher.busy_s) if batcher is not None else (0, 0.0)
            ivcsw = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw - ivcsw0
            rss_end = rss_mb()
            threads = threading.active_count()
            for s in streams:
                s.closed = True  # every call hangs up; sessions end their tasks
    leftover = len(asyncio.all_tasks()) - 1  # tasks besides this one after every call ended

    out_late, in_late, turn = list(REC.out_late), list(REC.in_late), list(REC.turn)
    late = sum(1 for v in out_late if v > LATE_THRESHOLD_S)
    return {
        "framework": "callwright",
        "python": sys.version.split()[0],
        "n": n,
        "vad": args.vad if args.vad == "energy" else f"silero-{args.silero_mode}",
        "record": args.record,
        "gc_tune": args.gc_tune,
        "seconds": args.seconds,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "pipelines_started": len(sessions),
        "startup_s": round(startup_s, 2),
        "out_frames": REC.out_frames,
        "out_lateness_p50_ms": ms(pct(out_late, 50)),
        "out_lateness_p99_ms": ms(pct(out_late, 99)),
        "out_lateness_max_ms": ms(max(out_late) if out_late else None),
        "late_40ms_frames": late,
        "late_40ms_pct": round(100.0 * late / len(out_late), 3) if out_late else None,
        "turn_latency_p50_ms": ms(pct(turn, 50)),
        "turn_latency_p99_ms": ms(pct(turn, 99)),
        "turns_completed": len(turn),
        "turns_expected": round(n * args.seconds / (CYCLE_FRAMES * FRAME_MS / 1000.0), 1),
        "transcripts": REC.transcripts,
        "in_lateness_p50_ms": ms(pct(in_late, 50)),
        "in_lateness_p99_ms": ms(pct(in_late, 99)),
        "cpu_pct": round(100.0 * (cpu1 - cpu0) / (wall1 - wall0), 1),
        "cpu_cores": os.cpu_count(),
        "preemptions_per_s": round(ivcsw / (wall1 - wall0), 1),  # involuntary ctx switches
        "threads": threads,
        "rss_base_mb": round(rss_base, 1),
        "rss_started_mb": round(rss_started, 1),
        "rss_end_mb": round(rss_end, 1),
        "rss_per_call_mb": round((rss_end - rss_base) / n, 3),
        "tasks_left_after_hangup": leftover,
        "vad_batches_per_s": round((vad1[0] - vad0[0]) / (wall1 - wall0), 1),
        "vad_batch_busy_pct": round(100.0 * (vad1[1] - vad0[1]) / (wall1 - wall0), 1),
    }


class _null:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


def child_main(args: argparse.Namespace) -> None:
    if args.gc_tune:
        from callwright.media.runtime import tune_gc_for_media

        tune_gc_for_media()  # what `callwright serve` does after start-up
    with tempfile.TemporaryDirectory(prefix="cw-bench-") as rec_dir:
        args.rec_dir = rec_dir
        res = asyncio.run(run_one(args.child, args))
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()
    os._exit(0)


def ok(res: dict[str, Any], p99_ms: float) -> bool:
    return (
        res.get("out_lateness_p99_ms") is not None
        and res["out_lateness_p99_ms"] < p99_ms
        and res.get("late_40ms_frames") == 0
        and res.get("turns_completed", 0) >= 0.9 * res.get("turns_expected", 0)
    )


def parent_main(args: argparse.Namespace) -> None:
    ns = [int(x) for x in args.n.split(",") if x.strip()]
    rows: list[dict[str, Any]] = []
    best = None
    for n in ns:
        cmd = [
            sys.executable,
            os.path.abspath(__file__),
            "--child",
            str(n),
            "--seconds",
            str(args.seconds),
            "--vad",
            args.vad,
            "--silero-mode",
            args.silero_mode,
            "--reply-ms",
            str(args.reply_ms),
            "--stt-delay-ms",
            str(args.stt_delay_ms),
            "--endpoint-ms",
            str(args.endpoint_ms),
        ]
        if not args.record:
            cmd.append("--no-record")
        if not args.gc_tune:
            cmd.append("--no-gc-tune")
        try:
            proc = subprocess.run(
                cmd, stdout=subprocess.PIPE, text=True, timeout=args.seconds + 180
            )
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            res = json.loads(lines[-1]) if lines else {"n": n, "error": f"rc={proc.returncode}"}
        except subprocess.TimeoutExpired:
            res = {"n": n, "error": "child timed out"}
        rows.append(res)
        print(json.dumps(res), file=sys.stderr, flush=True)
        if "error" not in res and ok(res, args.p99_ms):
            best = n if best is None else max(best, n)
    print(
        json.dumps(
            {
                "bench": "concurrency",
                "vad": args.vad,
                "silero_mode": args.silero_mode,
                "record": args.record,
                "gc_tune": args.gc_tune,
                "seconds": args.seconds,
                "cpu_cores": os.cpu_count(),
                "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
                "criterion": f"out_lateness_p99 < {args.p99_ms} ms, 0 frames > 40 ms late, "
                ">= 90% of turns done",
                "max_n_ok": best,
                "rows": rows,
            }
        ),
        flush=True,
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", default="50,100,200,300")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--vad", choices=["energy", "silero"], default="energy")
    p.add_argument("--silero-mode", choices=["batch", "inline"], default="batch")
    p.add_argument("--reply-ms", type=int, default=1000)
    p.add_argument("--stt-delay-ms", type=int, default=50)
    p.add_argument("--endpoint-ms", type=int, default=200)
    p.add_argument("--p99-ms", type=float, default=10.0)
    p.add_argument(
        "--no-record",
        dest="record",
        action="store_false",
        help="run without the stereo recorder (default: record to a temp dir)",
    )
    p.add_argument(
        "--no-gc-tune",
        dest="gc_tune",
        action="store_false",
        help="leave CPython's GC at its defaults (no gc.freeze / thresholds)",
    )
    p.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


if __name__ == "__main__":
    a = parse_args()
    if a.child:
        child_main(a)
    else:
        parent_main(a)
