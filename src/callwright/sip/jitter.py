"""A small jitter buffer for RTP: puts packets back in order, drops duplicates and late
packets, and conceals short losses so the caller's audio keeps its timing.

It holds at most ``depth`` packets while waiting for a missing one; in-order packets pass
straight through (no added delay on a clean network).
"""

from __future__ import annotations

SEQ_MOD = 1 << 16
RESYNC_JUMP = 1000  # a sequence jump this large is a new stream, not loss
MAX_CONCEALED = 5  # longer gaps are skipped rather than filled with silence


class JitterBuffer:
    __slots__ = ("_held", "_next", "depth", "duplicates", "late", "lost")

    def __init__(self, *, depth: int = 3) -> None:
        self.depth = depth
        self._held: dict[int, bytes] = {}
        self._next: int | None = None  # extended sequence number expected next
        self.late = 0
        self.duplicates = 0
        self.lost = 0

    def push(self, seq: int, payload: bytes) -> list[bytes | None]:
        """Add a packet; return what can be played now, in order (``None`` = one lost packet)."""
        if self._next is None:
            self._next = seq
        delta = (seq - self._next) % SEQ_MOD
        if delta >= SEQ_MOD // 2:
            delta -= SEQ_MOD
        ext = self._next + delta
        if delta < 0:
            if delta < -RESYNC_JUMP:
                return self._resync(seq, payload)
            self.late += 1
            return []
        if delta > RESYNC_JUMP:
            return self._resync(seq, payload)
        if ext in self._held:
            self.duplicates += 1
            return []
        self._held[ext] = payload
        return self._release(force=False)

    def flush(self) -> list[bytes | None]:
        """Release everything held (the stream paused: nothing more is coming soon)."""
        return self._release(force=True)

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def _resync(self, seq: int, payload: bytes) -> list[bytes | None]:
        out = self._release(force=True)
        self._next = seq
        self._held = {seq: payload}
        return out + self._release(force=False)

    def _release(self, *, force: bool) -> list[bytes | None]:
        out: list[bytes | None] = []
        assert self._next is not None or not self._held
        while self._held:
            assert self._next is not None
            payload = self._held.pop(self._next, None)
            if payload is not None:
                out.append(payload)
                self._next += 1
                continue
            if not force and len(self._held) <= self.depth:
                break
            first = min(self._held)
            gap = first - self._next
            self.lost += gap
            out.extend([None] * min(gap, MAX_CONCEALED))
            self._next = first
        return out
