"""Endpointing and the barge-in decision (pure, synchronous)."""

from __future__ import annotations

import pytest

from callwright.media.config import TurnSettings
from callwright.media.turns import (
    BargeIn,
    Endpointer,
    UtteranceEnded,
    UtterancePaused,
    UtteranceStarted,
    classify_barge_in,
    words_of,
)

S = TurnSettings()
SPEECH = b"\x01\x00" * 320
SILENCE = bytes(640)


def feed(ep: Endpointer, pattern: list[tuple[bool, int]], t0: float = 100.0) -> list[object]:
    """Push (is_speech, n_frames) runs at 20 ms steps; return (t, event) for each event."""
    events: list[object] = []
    t = t0
    for speech, n in pattern:
        for _ in range(n):
            ev = ep.push(SPEECH if speech else SILENCE, 1.0 if speech else 0.0, t)
            if ev is not None:
                events.append((round(t - t0, 3), ev))
            t += 0.02
    return events


def test_utterance_opens_after_min_speech_and_ends_after_endpoint_silence() -> None:
    ep = Endpointer(S)
    events = feed(ep, [(False, 20), (True, 50), (False, 40)])
    kinds = [type(e) for _, e in events]
    assert kinds == [UtteranceStarted, UtterancePaused, UtteranceEnded]
    t_start, started = events[0]
    assert isinstance(started, UtteranceStarted)
    assert started.onset_s == pytest.approx(100.0 + 20 * 0.02)  # onset = first speech frame
    assert t_start == pytest.approx((20 + 2) * 0.02)  # confirmed after speech_start_ms
    t_pause, _ = events[1]
    assert t_pause == pytest.approx((70 + 9) * 0.02)  # 200 ms of silence (10th silent frame)
    t_end, ended = events[2]
    assert isinstance(ended, UtteranceEnded)
    assert t_end == pytest.approx((70 + 24) * 0.02)  # 500 ms of silence
    assert ended.end_s == pytest.approx(100.0 + 69 * 0.02)
    assert ended.speech_ms == pytest.approx(1000.0)
    # pre-roll (10 frames) + 50 speech frames + 25 silent frames
    assert len(ended.audio) == (10 + 50 + 25) * 640


def test_blip_shorter_than_speech_start_is_not_an_utterance() -> None:
    ep = Endpointer(S)
    assert feed(ep, [(True, 2), (False, 30), (True, 1), (False, 30)]) == []


def test_speech_after_a_short_pause_continues_the_utterance_and_bumps_version() -> None:
    ep = Endpointer(S)
    events = feed(ep, [(True, 20), (False, 15), (True, 20), (False, 30)])
    kinds = [type(e) for _, e in events]
    assert kinds == [UtteranceStarted, UtterancePaused, UtterancePaused, UtteranceEnded]
    first_pause = events[1][1]
    ended = events[-1][1]
    assert isinstance(first_pause, UtterancePaused) and isinstance(ended, UtteranceEnded)
    assert first_pause.version != ended.version  # a speculative result from then is stale
    assert isinstance(events[2][1], UtterancePaused) and events[2][1].version == ended.version


def test_speculation_disabled_gives_no_pause_events() -> None:
    ep = Endpointer(TurnSettings(speculative_stt_ms=0))
    kinds = [type(e) for _, e in feed(ep, [(True, 20), (False, 30)])]
    assert kinds == [UtteranceStarted, UtteranceEnded]


def test_words_of_normalises_case_and_punctuation() -> None:
    assert words_of("Okay!  Uh-huh, it's FINE.") == ["okay", "uh-huh", "it's", "fine"]


@pytest.mark.parametrize(
    ("text", "speech_ms", "final", "expected"),
    [
        ("okay", 600, True, BargeIn.IGNORE),
        ("Okay.", 600, True, BargeIn.IGNORE),
        ("haan haan", 900, True, BargeIn.IGNORE),
        ("uh-huh", 500, True, BargeIn.IGNORE),
        ("mm, right, yes", 900, True, BargeIn.IGNORE),
        ("", 900, True, BargeIn.IGNORE),
        ("stop", 100, True, BargeIn.INTERRUPT),
        ("Wait!", 100, False, BargeIn.INTERRUPT),
        ("ruko", 100, True, BargeIn.INTERRUPT),
        ("okay hold on a second", 200, False, BargeIn.INTERRUPT),
        ("what about pricing", 200, False, BargeIn.INTERRUPT),
        ("okay what", 200, False, BargeIn.UNDECIDED),
        ("pricing", 400, False, BargeIn.UNDECIDED),
        ("pricing", 400, True, BargeIn.INTERRUPT),
        ("no", 100, True, BargeIn.UNDECIDED),
    ],
)
def test_classify_barge_in(text: str, speech_ms: float, final: bool, expected: BargeIn) -> None:
    assert classify_barge_in(text, speech_ms=speech_ms, settings=S, final=final) is expected
