"""Frame queue semantics: system frames first, data frames dropped on interruption."""

from __future__ import annotations

import dataclasses

import pytest

from callwright.media.config import EndReason
from callwright.media.frames import (
    AgentAudio,
    Frame,
    FrameQueue,
    HangUp,
    Interrupt,
    LLMTextDelta,
    SpeechStarted,
)


def test_system_frames_jump_the_queue_and_survive_interruption() -> None:
    q = FrameQueue()
    q.put(AgentAudio(b"a", 1, 0))
    q.put(LLMTextDelta("x", 1, 0.0))
    q.put(SpeechStarted(1.0))
    q.put(AgentAudio(b"b", 1, 0))
    q.put(HangUp(EndReason.CALLER_HANGUP, 2.0))
    assert isinstance(q.get(), SpeechStarted)
    assert q.interrupt() == 3
    assert isinstance(q.get(), HangUp)
    assert q.get() is None and len(q) == 0


def test_data_frames_keep_order() -> None:
    q = FrameQueue()
    for i in range(5):
        q.put(AgentAudio(bytes([i]), 1, 0))
    assert [q.get() for _ in range(5)] == [AgentAudio(bytes([i]), 1, 0) for i in range(5)]


def test_frames_are_frozen_and_base_frame_is_rejected() -> None:
    f = Interrupt(1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.t_s = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        FrameQueue().put(Frame())
