"""Agent audio on its way out: a frame buffer paced by the media clock, with pause and flush.

The clock calls :meth:`Playout.tick` once per 20 ms and at most one frame leaves. When
nothing is playing, the first frame of new audio leaves at once instead of waiting up to
20 ms for the next tick; later frames follow on the clock. Being one frame early is
harmless (the far end buffers); being late is not.
"""

from __future__ import annotations

from callwright.media.frames import AgentAudio, FrameQueue
from callwright.media.recorder import StereoRecorder
from callwright.providers.base import MediaStream


class Playout:
    __slots__ = ("_queue", "_recorder", "_sent_last_tick", "_stream", "paused_since")

    def __init__(self, *, stream: MediaStream, recorder: StereoRecorder | None) -> None:
        self._stream = stream
        self._recorder = recorder
        self._queue = FrameQueue()
        self._sent_last_tick = False
        self.paused_since: float | None = None  # set while a possible barge-in is checked

    @property
    def pending(self) -> int:
        return self._queue.data_len

    def push(self, frame: AgentAudio) -> AgentAudio | None:
        """Queue ``frame``; return the frame sent at once when the line was idle."""
        self._queue.put(frame)
        if self._sent_last_tick or self.paused_since is not None:
            return None
        self._sent_last_tick = True
        return self._send()

    def tick(self) -> AgentAudio | None:
        """Send the next frame unless paused; return it."""
        sent = self._send() if self.paused_since is None and self._queue.data_len else None
        self._sent_last_tick = sent is not None
        return sent

    def _send(self) -> AgentAudio | None:
        frame = self._queue.get()
        if not isinstance(frame, AgentAudio):
            return None
        self._stream.send(frame.audio)
        if self._recorder is not None:
            self._recorder.agent(frame.audio)
        return frame

    def pause(self, now_s: float) -> None:
        if self.paused_since is None:
            self.paused_since = now_s

    def resume(self) -> bool:
        """Carry on where playback paused; True if it was paused."""
        was_paused = self.paused_since is not None
        self.paused_since = None
        return was_paused

    def flush(self) -> None:
        """Drop everything queued here and at the far end (barge-in)."""
        self.paused_since = None
        self._queue.interrupt()
        self._stream.clear()
