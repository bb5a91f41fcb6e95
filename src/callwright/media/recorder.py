"""Stereo call recording: caller on the left channel, agent on the right, 16 kHz PCM16.

The media clock drives the recorder: each tick writes one 20 ms stereo frame from whatever
caller audio arrived and agent audio left since the previous tick, so both channels stay on
one timeline. Per tick the recorder only keeps references; about once a second it
interleaves the two channels (one numpy pass over 50 frames) and appends them to the WAV.

The append is a plain buffered ``write`` of ~64 KB into the page cache, done on the event
loop: measured at 200 calls it costs less than handing each write to a thread pool, whose
thread wake-ups and GIL hand-offs made frames late (bench/concurrency.py).
"""

from __future__ import annotations

import io
import wave
from collections import deque
from pathlib import Path
from typing import BinaryIO

import numpy as np

from callwright.providers.base import FRAME_BYTES, SAMPLE_RATE_HZ

_SILENCE = bytes(FRAME_BYTES)
FLUSH_FRAMES = 50  # about one second
MAX_BACKLOG_FRAMES = 3  # caller frames arriving in a burst are written beside agent silence


class StereoRecorder:
    """Writes a stereo WAV as the call runs; ``close`` finalises the header."""

    def __init__(self, *, path: Path | None = None) -> None:
        self.path = path
        self._memory: io.BytesIO | None = None
        target: BinaryIO
        if path is None:
            self._memory = io.BytesIO()
            target = self._memory
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            target = path.open("wb")
        self._file = target
        self._wav = wave.open(target, "wb")  # closed in close()
        self._wav.setnchannels(2)
        self._wav.setsampwidth(2)
        self._wav.setframerate(SAMPLE_RATE_HZ)
        self._caller: deque[bytes] = deque()
        self._agent: deque[bytes] = deque()
        self._left: list[bytes] = []
        self._right: list[bytes] = []
        self._pending_frames = 0
        self._closed = False

    def caller(self, frame: bytes) -> None:
        self._caller.append(frame)

    def agent(self, frame: bytes) -> None:
        self._agent.append(frame)

    def tick(self) -> None:
        """Write one (or, after a burst, a few) stereo frames."""
        self._write_one()
        while len(self._caller) > MAX_BACKLOG_FRAMES or len(self._agent) > MAX_BACKLOG_FRAMES:
            self._write_one()
        if self._pending_frames >= FLUSH_FRAMES:
            self._flush()

    def _write_one(self) -> None:
        # Just collect references here (this runs on every tick for every call); the
        # channels are interleaved once per flush, 50 frames at a time.
        self._left.append(self._caller.popleft() if self._caller else _SILENCE)
        self._right.append(self._agent.popleft() if self._agent else _SILENCE)
        self._pending_frames += 1

    def _flush(self) -> None:
        if not self._pending_frames:
            return
        out = np.empty(self._pending_frames * FRAME_BYTES, dtype="<i2")
        out[0::2] = np.frombuffer(b"".join(self._left), dtype="<i2")
        out[1::2] = np.frombuffer(b"".join(self._right), dtype="<i2")
        self._left.clear()
        self._right.clear()
        self._pending_frames = 0
        data = out.tobytes()
        self._wav.writeframesraw(data)

    def close(self) -> bytes | None:
        """Drain, finalise the WAV header and return the bytes when recording in memory."""
        if self._closed:
            return self._memory.getvalue() if self._memory is not None else None
        while self._caller or self._agent:
            self._write_one()
        self._flush()
        self._closed = True
        self._wav.close()  # patches the header; leaves a file object it did not open open
        if self._memory is not None:
            return self._memory.getvalue()
        self._file.close()
        return None
