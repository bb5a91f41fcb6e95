"""Typed configuration of one call session, and the result it returns.

`SessionConfig` is built per call by the composition root (from an assistant and the
call's ``call_config``/variables) and handed to :class:`callwright.media.session.CallSession`.
It is frozen: a running call never sees its configuration change under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from callwright.providers.base import (
    LanguageModel,
    SpeechToText,
    TextToSpeech,
    VoiceActivityDetector,
)

DEFAULT_BACKCHANNEL_WORDS: frozenset[str] = frozenset(
    {
        "okay",
        "ok",
        "yes",
        "yeah",
        "yep",
        "hmm",
        "hm",
        "mhm",
        "mm",
        "uh-huh",
        "uh",
        "um",
        "haan",
        "han",
        "haa",
        "achha",
        "accha",
        "acha",
        "right",
        "sure",
        "alright",
        "ji",
    }
)
# Single words or phrases; a phrase matches when its words appear in order.
DEFAULT_STOP_WORDS: frozenset[str] = frozenset(
    {"stop", "wait", "ruko", "rukiye", "hold on", "one second", "one minute", "excuse me"}
)


@dataclass(frozen=True, slots=True)
class CallRules:
    """Call-level rules (Ringg's ``call_config``)."""

    idle_timeout_warning_s: float = 5.0  # caller silent this long -> speak idle_warning_text
    idle_timeout_end_s: float = 10.0  # caller silent this long (same start) -> hang up
    max_call_length_s: float = 240.0  # then speak wrap_up_text and hang up
    idle_warning_text: str = "Are you still there?"
    wrap_up_text: str = "We have reached the time limit for this call. Thank you, goodbye!"
    idle_end_text: str = ""  # optional line spoken before an idle hang-up
    end_on_goodbye: bool = True  # hang up after the agent (or caller + agent) said goodbye


@dataclass(frozen=True, slots=True)
class TurnSettings:
    """Turn-taking knobs. All durations are measured on the caller's audio timeline."""

    vad_threshold: float = 0.5  # speech probability at or above this counts as speech
    speech_start_ms: int = 60  # consecutive speech needed to open an utterance
    endpoint_silence_ms: int = 500  # silence that ends the caller's turn
    speculative_stt_ms: int = 200  # transcribe early at this pause; 0 disables
    preroll_ms: int = 200  # audio kept from before speech onset for STT
    min_barge_in_ms: int = 300  # a final transcript this long (or min words) interrupts
    # Caller speech this long while the agent talks stops the agent's audio until we know what
    # was said. Longer than a spoken backchannel ("okay", "haan": 300-450 ms), so those never
    # stop it; the agent then stops within ~100 ms (VAD onset and one 20 ms tick).
    pause_after_ms: int = 500
    min_barge_in_words: int = 2  # or this many (non-backchannel) words in an interim transcript
    backchannel_words: frozenset[str] = DEFAULT_BACKCHANNEL_WORDS
    stop_words: frozenset[str] = DEFAULT_STOP_WORDS
    false_interruption_timeout_ms: int = 1500  # paused with no decision this long -> resume
    stream_sentences: bool = True  # TTS sentence by sentence; False = whole reply at once
    interruptible: bool = True  # False: the caller can never barge in


@dataclass(frozen=True, slots=True)
class Engines:
    """Per-call engine instances (VAD holds per-call state; the rest may be shared)."""

    vad: VoiceActivityDetector
    stt: SpeechToText
    llm: LanguageModel
    tts: TextToSpeech


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """Everything one call needs. ``variables`` fill ``{{name}}`` / ``@{{name}}`` placeholders
    in ``system_prompt`` and ``intro_message``."""

    engines: Engines
    system_prompt: str = "You are a helpful voice assistant on a phone call."
    intro_message: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    language: str = "en"
    rules: CallRules = field(default_factory=CallRules)
    turns: TurnSettings = field(default_factory=TurnSettings)
    llm_max_tokens: int = 160
    llm_temperature: float = 0.2
    record: bool = True
    recording_path: Path | None = None  # WAV written here as the call runs; None = in memory
    call_id: str = ""


class EndReason(StrEnum):
    CALLER_HANGUP = "caller_hangup"
    AGENT_HANGUP = "agent_hangup"  # the conversation reached a goodbye
    IDLE_TIMEOUT = "idle_timeout"
    MAX_DURATION = "max_duration"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class TurnLatency:
    """One agent turn, in ms after the end of the caller's speech (None = did not happen)."""

    transcript_ms: float | None
    first_token_ms: float | None
    first_tts_audio_ms: float | None
    first_audio_out_ms: float | None
    speculative_stt_used: bool = False
    endpoint_ms: float | None = None  # when the silence threshold declared the turn over


@dataclass(frozen=True, slots=True)
class CallResult:
    """What a finished call produced.

    ``transcript`` holds ``{"bot": text}`` / ``{"user": text}`` entries in spoken order; a bot
    entry holds only what the caller heard. The recording is stereo 16 kHz PCM16 WAV, caller
    left, agent right: ``recording_path`` when the config named one, else ``recording_wav``.
    """

    call_id: str
    end_reason: EndReason
    duration_s: float
    transcript: tuple[dict[str, str], ...]
    turn_latencies: tuple[TurnLatency, ...]
    recording_wav: bytes | None = field(default=None, repr=False)
    recording_path: Path | None = None
    error: str | None = None
    interruptions: int = 0
    false_interruptions: int = 0
