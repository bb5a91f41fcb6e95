"""Turn-taking: VAD endpointing and the barge-in decision.

Both are synchronous and cheap: they run inline on every inbound 20 ms frame in the call's
receive task (no queue, no extra task), which is what lets one process carry hundreds of calls.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from enum import Enum

from callwright.media.config import TurnSettings
from callwright.providers.base import FRAME_MS

_WORD = re.compile(r"[\w'\-]+", re.UNICODE)


def words_of(text: str) -> list[str]:
    """Lower-cased words of ``text``, punctuation dropped (hyphens and apostrophes kept)."""
    return [w.strip("-'") for w in _WORD.findall(text.lower()) if w.strip("-'")]


class BargeIn(Enum):
    INTERRUPT = "interrupt"  # stop the agent: cancel generation, flush audio
    IGNORE = "ignore"  # noise, cough or backchannel: keep (or resume) talking
    UNDECIDED = "undecided"  # too little evidence yet


def _contains_phrase(words: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


def classify_barge_in(
    text: str, *, speech_ms: float, settings: TurnSettings, final: bool = True
) -> BargeIn:
    """Decide whether caller speech heard over the agent is an interruption.

    Stop words always interrupt; empty or backchannel-only speech never does; otherwise the
    caller interrupts once they said ``min_barge_in_words`` words (backchannel words not
    counted) or — on the final transcript only, since an interim one may end mid-word —
    spoke for ``min_barge_in_ms``.
    """
    words = words_of(text)
    for stop in settings.stop_words:
        if _contains_phrase(words, words_of(stop)):
            return BargeIn.INTERRUPT
    backchannel = settings.backchannel_words
    if " ".join(words) in backchannel or "-".join(words) in backchannel:
        return BargeIn.IGNORE
    content = [w for w in words if w not in backchannel]
    if not content:
        return BargeIn.IGNORE
    if len(content) >= settings.min_barge_in_words:
        return BargeIn.INTERRUPT
    if final and speech_ms >= settings.min_barge_in_ms:
        return BargeIn.INTERRUPT
    return BargeIn.UNDECIDED


@dataclass(frozen=True, slots=True)
class UtteranceStarted:
    onset_s: float


@dataclass(frozen=True, slots=True)
class UtterancePaused:
    """Silence reached the speculative threshold: a good moment to transcribe early."""

    version: int


@dataclass(frozen=True, slots=True)
class UtteranceEnded:
    onset_s: float
    end_s: float  # arrival of the last speech frame
    speech_ms: float
    audio: bytes
    version: int  # equals the UtterancePaused.version when no speech came after that pause
    decided_s: float = 0.0  # arrival of the frame that completed the endpoint silence


TurnEvent = UtteranceStarted | UtterancePaused | UtteranceEnded


class Endpointer:
    """Tracks one caller's utterances from per-frame speech probabilities.

    ``push`` is fed every inbound frame in order and returns at most one event. The
    utterance audio (with a short pre-roll so STT hears the onset) is collected here.
    """

    __slots__ = (
        "_audio",
        "_end_frames",
        "_in_speech",
        "_last_speech_s",
        "_onset_s",
        "_preroll",
        "_run",
        "_run_onset_s",
        "_silence",
        "_spec_frames",
        "_start_frames",
        "_threshold",
        "_version",
    )

    def __init__(self, settings: TurnSettings) -> None:
        self._threshold = settings.vad_threshold
        self._start_frames = max(1, settings.speech_start_ms // FRAME_MS)
        self._end_frames = max(1, settings.endpoint_silence_ms // FRAME_MS)
        spec = settings.speculative_stt_ms // FRAME_MS
        self._spec_frames = spec if 0 < spec < self._end_frames else 0
        # the frames that confirm speech onset plus preroll_ms before them
        self._preroll: deque[bytes] = deque(
            maxlen=self._start_frames + settings.preroll_ms // FRAME_MS
        )
        self._audio = bytearray()
        self._in_speech = False
        self._run = 0  # consecutive speech frames while not in speech
        self._run_onset_s = 0.0
        self._onset_s = 0.0
        self._last_speech_s = 0.0
        self._silence = 0  # consecutive silent frames inside an utterance
        self._version = 0  # bumps on every speech frame inside an utterance

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def onset_s(self) -> float:
        return self._onset_s

    def speech_ms(self) -> float:
        """Voiced length of the current utterance, onset to last speech frame (0 outside
        one); trailing silence does not count, so a cough stays short."""
        if not self._in_speech:
            return 0.0
        return (self._last_speech_s - self._onset_s) * 1000.0 + FRAME_MS

    def audio_so_far(self) -> bytes:
        return bytes(self._audio)

    @property
    def version(self) -> int:
        return self._version

    def push(self, frame: bytes, prob: float, t_s: float) -> TurnEvent | None:
        speech = prob >= self._threshold
        if not self._in_speech:
            if speech:
                if self._run == 0:
                    self._run_onset_s = t_s
                self._run += 1
                self._preroll.append(frame)
                if self._run >= self._start_frames:
                    self._in_speech = True
                    self._onset_s = self._run_onset_s
                    self._last_speech_s = t_s
                    self._silence = 0
                    self._version += 1
                    self._audio = bytearray(b"".join(self._preroll))
                    self._preroll.clear()
                    self._run = 0
                    return UtteranceStarted(self._onset_s)
            else:
                self._run = 0
                self._preroll.append(frame)
            return None
        self._audio += frame
        if speech:
            self._silence = 0
            self._last_speech_s = t_s
            self._version += 1
            return None
        self._silence += 1
        if self._silence == self._spec_frames:
            return UtterancePaused(self._version)
        if self._silence >= self._end_frames:
            self._in_speech = False
            self._silence = 0
            audio = bytes(self._audio)
            self._audio = bytearray()
            speech_ms = (self._last_speech_s - self._onset_s) * 1000.0 + FRAME_MS
            return UtteranceEnded(
                self._onset_s, self._last_speech_s, speech_ms, audio, self._version, t_s
            )
        return None

    def reset(self) -> None:
        """Drop any utterance in progress (e.g. audio heard while the agent must not listen)."""
        self._in_speech = False
        self._run = 0
        self._silence = 0
        self._audio = bytearray()
        self._preroll.clear()
