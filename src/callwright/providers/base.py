"""The provider ports: one small protocol per kind of engine.

Audio crossing these ports is always mono signed 16-bit little-endian PCM (``bytes``).
Inside a call it is 16 kHz in 20 ms frames (640 bytes); transports convert at the edge.

A provider is one module exposing ``PROVIDER`` (see :class:`Provider`). ``PROVIDER.create``
builds a per-call engine from a typed config; heavy models are loaded once per process,
lazily, on the first ``create`` (never at import time) and shared by every call.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

SAMPLE_RATE_HZ = 16_000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE_HZ * FRAME_MS // 1000 * 2  # 640


class ErrorCategory(StrEnum):
    """Why a provider failed, in our words rather than the vendor's."""

    AUTH = "auth"  # bad or missing credentials
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"  # vendor down, network unreachable
    BAD_REQUEST = "bad_request"  # we sent something the vendor refused
    NOT_INSTALLED = "not_installed"  # optional dependency or model file missing
    INTERNAL = "internal"


class ProviderError(Exception):
    """Every vendor/engine error is translated into this at the provider boundary."""

    def __init__(
        self,
        message: str,
        *,
        category: ErrorCategory,
        retryable: bool = False,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.category = category
        self.retryable = retryable
        self.retry_after_s = retry_after_s  # the vendor's Retry-After, when it sent one


# --------------------------------------------------------------------------- VAD


class VoiceActivityDetector(Protocol):
    """Streaming speech detector for one call (holds per-call state)."""

    def speech_probability(self, frame: bytes) -> float:
        """Probability (0..1) that the newest audio is speech; ``frame`` is 20 ms of 16 kHz PCM."""
        ...

    def reset(self) -> None:
        """Forget all state, as at the start of a call."""
        ...


# --------------------------------------------------------------------------- STT


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str | None = None
    confidence: float | None = None


class SpeechToText(Protocol):
    async def transcribe(self, audio: bytes, *, language: str | None = None) -> Transcript:
        """Transcribe one utterance of 16 kHz PCM. Blocking engines run in a worker thread."""
        ...


# --------------------------------------------------------------------------- LLM


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


class LanguageModel(Protocol):
    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int = 256,
        temperature: float = 0.2,
    ) -> AsyncGenerator[str, None]:
        """Yield the reply as text deltas as they are produced. Closing the iterator
        (``aclose``) stops generation promptly: that is how barge-in cancels a reply."""
        ...

    async def complete_json(
        self,
        messages: Sequence[ChatMessage],
        *,
        schema: dict[str, Any],
        max_tokens: int = 512,
    ) -> dict[str, Any]:
        """One non-streamed reply constrained to the JSON ``schema`` (post-call analysis)."""
        ...


# --------------------------------------------------------------------------- TTS


class TextToSpeech(Protocol):
    def synthesize(self, text: str) -> AsyncGenerator[bytes, None]:
        """Yield 16 kHz PCM chunks for ``text`` (any chunk size) as soon as they exist."""
        ...


# --------------------------------------------------------------------------- telephony


class MediaStream(Protocol):
    """The audio of one connected call, as the platform sees it: 20 ms frames of 16 kHz PCM.

    Transports convert at the edge (8 kHz mu-law for phone networks)."""

    async def receive(self) -> bytes | None:
        """Wait for the next caller frame; ``None`` once the far end has hung up."""
        ...

    def send(self, frame: bytes) -> None:
        """Hand one agent frame to the far end without waiting. The caller paces sends on a
        20 ms clock; the transport only forwards (a phone network plays what it receives)."""
        ...

    def clear(self) -> None:
        """Drop agent audio the far end still buffers (barge-in; Twilio's ``clear``)."""
        ...

    async def hangup(self) -> None:
        """End the call from our side. Idempotent."""
        ...


class DialOutcome(StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DialRequest:
    call_id: str
    from_number: str  # E.164
    to_number: str  # E.164
    variables: dict[str, str] = field(default_factory=dict)  # the call's custom_args_values
    ring_timeout_s: float = 30.0


@dataclass(frozen=True, slots=True)
class DialResult:
    outcome: DialOutcome
    provider_call_id: str
    stream: MediaStream | None = None  # set when ANSWERED
    detail: str = ""  # carrier's words for a failure, e.g. "busy line", "no answer"


class Telephony(Protocol):
    async def dial(self, request: DialRequest) -> DialResult:
        """Place an outbound call and wait until it is answered or has failed."""
        ...


# --------------------------------------------------------------------------- provider modules

ConfigT = TypeVar("ConfigT", bound=BaseModel)
EngineT_co = TypeVar("EngineT_co", covariant=True)


@runtime_checkable
class Provider(Protocol[EngineT_co]):
    """What a provider module exposes as ``PROVIDER``."""

    name: str  # "whisper", "piper", ...
    kind: str  # "vad" | "stt" | "llm" | "tts" | "telephony"
    extra: str  # the pip extra that installs its dependencies, named in NOT_INSTALLED errors

    def config_model(self) -> type[BaseModel]: ...

    def create(self, config: BaseModel) -> EngineT_co: ...


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """An assistant's choice of engine: provider name plus its raw options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
