"""Run one VAD inference per 20 ms for all calls instead of one per call.

A model like Silero costs far less per window when many windows share one batched run.
Sessions :meth:`~BatchedVAD.submit` each inbound frame with their own (stateful) detector;
every period the batcher runs one batch function over the frames that arrived, one input
per detector, in a worker thread (the model releases the GIL, so it uses another core), and
hands each probability back to its session in arrival order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from callwright.providers.base import FRAME_MS

BatchFn = Callable[[Sequence[Any], Sequence[bytes]], list[float]]
ResultFn = Callable[[bytes, float, float], None]  # (frame, probability, arrival time)


class BatchedVAD:
    """Process-wide VAD batcher; ``batch_fn(detectors, frames)`` returns one probability
    per (detector, frame) pair, advancing each detector's state (e.g. Silero's
    ``speech_probabilities``). Use :meth:`running` to own its task."""

    def __init__(self, *, batch_fn: BatchFn, period_ms: int = FRAME_MS) -> None:
        self._batch_fn = batch_fn
        self._period_s = period_ms / 1000.0
        self._pending: list[tuple[Any, bytes, float, ResultFn]] = []
        self.batches = 0
        self.max_batch = 0
        self.busy_s = 0.0  # wall time spent in batch runs (for capacity reports)

    def submit(self, detector: Any, frame: bytes, t_s: float, on_result: ResultFn) -> None:
        self._pending.append((detector, frame, t_s, on_result))

    def _take_batch(self) -> list[tuple[Any, list[tuple[Any, bytes, float, ResultFn]]]]:
        """Group pending frames by detector, in arrival order."""
        groups: dict[int, tuple[Any, list[tuple[Any, bytes, float, ResultFn]]]] = {}
        for item in self._pending:
            key = id(item[0])
            if key not in groups:
                groups[key] = (item[0], [])
            groups[key][1].append(item)
        self._pending = []
        return list(groups.values())

    async def run(self) -> None:
        t0 = time.monotonic()
        k = 0
        while True:
            k += 1
            delay = t0 + k * self._period_s - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if not self._pending:
                continue
            batch = self._take_batch()
            detectors = [det for det, _ in batch]
            # A detector that fell behind gets its frames as one chunk: the model runs every
            # window in it, and all those frames share the newest probability. Under load
            # this catches up in one run instead of letting a backlog grow.
            chunks = [b"".join(item[1] for item in items) for _, items in batch]
            started = time.monotonic()
            probs = await asyncio.to_thread(self._batch_fn, detectors, chunks)
            self.busy_s += time.monotonic() - started
            self.batches += 1
            self.max_batch = max(self.max_batch, len(batch))
            for (_, items), prob in zip(batch, probs, strict=True):
                for _, frame, t_s, on_result in items:
                    on_result(frame, prob, t_s)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[BatchedVAD]:
        task = asyncio.create_task(self.run(), name="vad-batch")
        try:
            yield self
        finally:
            task.cancel()
            await asyncio.wait([task])
