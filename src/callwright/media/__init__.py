"""The real-time call engine: frames, audio, turn-taking, the call session and its clock."""

from callwright.media.clock import MediaClock
from callwright.media.config import (
    CallResult,
    CallRules,
    EndReason,
    Engines,
    SessionConfig,
    TurnLatency,
    TurnSettings,
)
from callwright.media.listening import FrameObserver
from callwright.media.runtime import tune_gc_for_media
from callwright.media.session import CallSession
from callwright.media.vad_batch import BatchedVAD

__all__ = [
    "BatchedVAD",
    "CallResult",
    "CallRules",
    "CallSession",
    "EndReason",
    "Engines",
    "FrameObserver",
    "MediaClock",
    "SessionConfig",
    "TurnLatency",
    "TurnSettings",
    "tune_gc_for_media",
]
