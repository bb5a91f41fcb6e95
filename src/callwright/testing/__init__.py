"""Public fakes for the provider ports and a helper that runs a whole call against them."""

from callwright.testing.documents import docx_document, pdf_document
from callwright.testing.engines import FakeSTT, FakeTTS, FakeVAD, ScriptedLLM
from callwright.testing.knowledge import FakeKnowledge
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
    "FakeKnowledge",
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
    "docx_document",
    "pdf_document",
    "play_script",
    "run_pipeline",
]
