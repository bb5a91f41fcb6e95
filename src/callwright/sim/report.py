"""What a simulated callee heard and said, timestamped on ``time.monotonic()``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

AUDIBLE_RMS = 200.0  # PCM16 RMS above which a frame counts as sound (≈ -44 dBFS)


class SpeechKind(StrEnum):
    GREETING = "greeting"  # said on pick-up (a voicemail greeting too)
    REPLY = "reply"  # an answer after the agent finished
    INTERRUPT = "interrupt"  # talking over the agent on purpose
    BACKCHANNEL = "backchannel"  # "okay" while the agent talks


@dataclass(frozen=True, slots=True)
class HeardUtterance:
    """One agent utterance as the callee's VAD cut it and its STT transcribed it."""

    turn: int  # 1-based count of agent utterances
    start_mono: float
    end_mono: float
    text: str


@dataclass(frozen=True, slots=True)
class SpokenUtterance:
    """Something the callee said. ``onset_mono`` is the first audible frame put on the line;
    ``end_mono`` the last frame, or when it was cut off (``completed`` False)."""

    kind: SpeechKind
    text: str
    started_mono: float
    onset_mono: float | None
    end_mono: float
    completed: bool


@dataclass(frozen=True, slots=True)
class PersonaReport:
    persona: str
    answered_mono: float
    ended_mono: float
    hung_up_by: str | None  # "agent" | "callee"
    heard: tuple[HeardUtterance, ...]
    spoken: tuple[SpokenUtterance, ...]
    agent_levels: tuple[tuple[float, float], ...]  # (tick time, RMS of the agent frame heard)

    def transcript(self) -> str:
        """Everything the callee heard, as its STT wrote it."""
        return " ".join(h.text for h in self.heard if h.text)

    def agent_audio_stop_s(
        self, onset_mono: float, *, gap_s: float = 0.4, audible_rms: float = AUDIBLE_RMS
    ) -> float | None:
        """Seconds from ``onset_mono`` to the last audible agent frame of the agent speech
        running at that moment (speech resumes across gaps shorter than ``gap_s``).
        None when no agent audio was playing at ``onset_mono``."""
        last: float | None = None
        for at, level in self.agent_levels:
            if at < onset_mono - gap_s:
                continue
            if level >= audible_rms:
                if last is not None and at - last > gap_s:
                    break
                last = at
            elif last is not None and at - last > gap_s:
                break
            elif last is None and at > onset_mono + gap_s:
                return None
        return None if last is None else max(0.0, last - onset_mono)
