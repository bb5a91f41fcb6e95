"""Per-turn latency marks and small statistics helpers.

A turn is measured from the end of the caller's speech (the last speech frame) through
final transcript, first LLM token, first TTS audio and first agent frame sent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from callwright.media.config import TurnLatency


class TurnTiming:
    """Mutable marks (``time.monotonic`` seconds) of one turn; first mark of each kind wins."""

    __slots__ = (
        "endpoint_s",
        "first_audio_out_s",
        "first_token_s",
        "first_tts_audio_s",
        "speculative",
        "speech_end_s",
        "transcript_s",
    )

    def __init__(self, *, speech_end_s: float) -> None:
        self.speech_end_s = speech_end_s
        self.endpoint_s: float | None = None
        self.transcript_s: float | None = None
        self.first_token_s: float | None = None
        self.first_tts_audio_s: float | None = None
        self.first_audio_out_s: float | None = None
        self.speculative = False

    def _ms(self, t: float | None) -> float | None:
        return None if t is None else round((t - self.speech_end_s) * 1000.0, 3)

    def latency(self) -> TurnLatency:
        return TurnLatency(
            transcript_ms=self._ms(self.transcript_s),
            first_token_ms=self._ms(self.first_token_s),
            first_tts_audio_ms=self._ms(self.first_tts_audio_s),
            first_audio_out_ms=self._ms(self.first_audio_out_s),
            speculative_stt_used=self.speculative,
            endpoint_ms=self._ms(self.endpoint_s),
        )


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    s = sorted(values)
    i = min(len(s) - 1, max(0, math.ceil(q / 100.0 * len(s)) - 1))
    return s[i]
