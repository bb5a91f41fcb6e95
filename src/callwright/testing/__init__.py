"""Public fakes for the provider ports and a helper that runs a whole call against them."""

from callwright.testing.engines import FakeSTT, FakeTTS, FakeVAD, ScriptedLLM
from callwright.testing.pipeline import (
    HangUp,
    Noise,
    Pause,
    Say,
    WaitForAgent,
    play_script,
    run_pipeline,
)
from callwright.testing.streams import CallerEnd, FakeMediaStream, LoopbackStream

__all__ = [
    "CallerEnd",
    "FakeMediaStream",
    "FakeSTT",
    "FakeTTS",
    "FakeVAD",
    "HangUp",
    "LoopbackStream",
    "Noise",
    "Pause",
    "Say",
    "ScriptedLLM",
    "WaitForAgent",
    "play_script",
    "run_pipeline",
]
