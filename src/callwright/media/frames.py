"""The frames of a call: small frozen messages whose type carries their meaning.

Two classes of frame, as in every serious voice pipeline:

* :class:`SystemFrame` (speech started, interrupt, hang-up, DTMF) — control that must never
  wait behind audio or text; a :class:`FrameQueue` hands them out first and keeps them
  across an interruption.
* :class:`DataFrame` (audio, transcripts, LLM text, TTS audio) — content in order; an
  interruption drops every queued data frame.

Audio is mono PCM16 at 16 kHz; agent audio frames are exactly 20 ms (640 bytes).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from callwright.media.config import EndReason


@dataclass(frozen=True, slots=True)
class Frame:
    """Base of every frame."""


@dataclass(frozen=True, slots=True)
class SystemFrame(Frame):
    """Control frame: jumps the queue, survives interruption."""


@dataclass(frozen=True, slots=True)
class DataFrame(Frame):
    """Content frame: kept in order, dropped on interruption."""


# ------------------------------------------------------------------ data frames


@dataclass(frozen=True, slots=True)
class CallerAudio(DataFrame):
    """One 20 ms frame received from the caller."""

    audio: bytes
    t_s: float


@dataclass(frozen=True, slots=True)
class AgentAudio(DataFrame):
    """One 20 ms frame of agent speech waiting to be sent; ``segment`` indexes the text
    segment (sentence) of the reply it belongs to, so sent audio maps back to heard text."""

    audio: bytes
    turn: int
    segment: int


@dataclass(frozen=True, slots=True)
class InterimTranscript(DataFrame):
    text: str
    t_s: float


@dataclass(frozen=True, slots=True)
class FinalTranscript(DataFrame):
    text: str
    t_s: float
    speculative: bool = False


@dataclass(frozen=True, slots=True)
class LLMTextDelta(DataFrame):
    text: str
    turn: int
    t_s: float


@dataclass(frozen=True, slots=True)
class TTSAudio(DataFrame):
    """A chunk from the TTS engine (any length), before it is cut into 20 ms frames."""

    audio: bytes
    turn: int
    t_s: float


@dataclass(frozen=True, slots=True)
class AudioSent(DataFrame):
    """An agent frame left for the caller at ``t_s`` (observer notification)."""

    turn: int
    t_s: float
    first_of_turn: bool


# ------------------------------------------------------------------ system frames


@dataclass(frozen=True, slots=True)
class SpeechStarted(SystemFrame):
    """The caller started speaking; ``onset_s`` is the first speech frame's arrival time."""

    onset_s: float


@dataclass(frozen=True, slots=True)
class SpeechStopped(SystemFrame):
    """The caller's utterance ended; ``end_s`` is when the last speech frame arrived."""

    end_s: float
    duration_ms: float


@dataclass(frozen=True, slots=True)
class Interrupt(SystemFrame):
    """The caller barged in: agent audio, text and generation in flight are dropped."""

    t_s: float


@dataclass(frozen=True, slots=True)
class DTMF(SystemFrame):
    digit: str
    t_s: float


@dataclass(frozen=True, slots=True)
class HangUp(SystemFrame):
    reason: EndReason
    t_s: float


class FrameQueue:
    """A non-blocking frame buffer: system frames first, data frames in order.

    Sync and allocation-free on the hot path (one ``deque`` per class); the single consumer
    is the media clock, so no locking is needed on the event loop.
    """

    __slots__ = ("_data", "_system")

    def __init__(self) -> None:
        self._system: deque[SystemFrame] = deque()
        self._data: deque[DataFrame] = deque()

    def put(self, frame: Frame) -> None:
        if isinstance(frame, SystemFrame):
            self._system.append(frame)
        elif isinstance(frame, DataFrame):
            self._data.append(frame)
        else:
            raise TypeError(f"not a system or data frame: {frame!r}")

    def get(self) -> Frame | None:
        """The next frame (system before data), or None when empty."""
        if self._system:
            return self._system.popleft()
        if self._data:
            return self._data.popleft()
        return None

    def interrupt(self) -> int:
        """Drop every queued data frame; return how many were dropped."""
        dropped = len(self._data)
        self._data.clear()
        return dropped

    @property
    def data_len(self) -> int:
        return len(self._data)

    def __len__(self) -> int:
        return len(self._system) + len(self._data)
