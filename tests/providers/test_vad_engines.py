"""Silero and WebRTC VAD on real speech (Piper) and real silence/noise."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from callwright.providers import registry
from callwright.providers.base import FRAME_BYTES, EngineSpec, ErrorCategory, ProviderError
from callwright.providers.vad import silero

pytestmark = pytest.mark.engines


def frames(pcm: bytes) -> list[bytes]:
    usable = len(pcm) - len(pcm) % FRAME_BYTES
    return [pcm[i : i + FRAME_BYTES] for i in range(0, usable, FRAME_BYTES)]


def silence(seconds: float) -> bytes:
    return bytes(int(seconds * 16_000) * 2)


def quiet_noise(seconds: float, *, seed: int = 7) -> bytes:
    rng = np.random.default_rng(seed)
    noise = rng.normal(0, 0.003, int(seconds * 16_000))  # about -50 dBFS line hiss
    return np.clip(noise * 32767, -32768, 32767).astype("<i2").tobytes()


def speech_fraction(vad: Any, pcm: bytes, *, threshold: float = 0.5) -> float:
    probabilities = [float(vad.speech_probability(f)) for f in frames(pcm)]
    return sum(p >= threshold for p in probabilities) / len(probabilities)


@pytest.mark.parametrize("name", ["silero", "webrtc"])
def test_detects_speech_in_piper_audio_and_not_in_silence(
    name: str, piper_audio: dict[str, bytes]
) -> None:
    vad = registry.create("vad", EngineSpec(name))
    speech = b"".join(piper_audio.values())
    assert speech_fraction(vad, speech) > 0.5
    vad.reset()
    assert speech_fraction(vad, silence(2.0)) == 0.0
    if name == "silero":  # webrtc's GMM is known to fire on steady hiss
        vad.reset()
        assert speech_fraction(vad, quiet_noise(2.0)) < 0.05


def test_silero_probability_rises_at_speech_onset(piper_audio: dict[str, bytes]) -> None:
    vad = registry.create("vad", EngineSpec("silero"))
    audio = silence(1.0) + next(iter(piper_audio.values()))
    probabilities = [vad.speech_probability(f) for f in frames(audio)]
    lead = len(frames(silence(1.0)))
    assert max(probabilities[:lead]) < 0.2
    assert max(probabilities[lead:]) > 0.9


def test_silero_calls_keep_separate_state(piper_audio: dict[str, bytes]) -> None:
    speech = frames(next(iter(piper_audio.values())))
    a = registry.create("vad", EngineSpec("silero"))
    b = registry.create("vad", EngineSpec("silero"))
    for frame in speech[:40]:
        a.speech_probability(frame)
    # b has heard only silence, so its state is not a's.
    assert b.speech_probability(silence(0.02)) < 0.2
    assert a.speech_probability(speech[40]) > 0.5


def test_silero_batched_run_matches_single_runs(piper_audio: dict[str, bytes]) -> None:
    sources = [*piper_audio.values(), silence(3.0), quiet_noise(3.0)]
    streams = [frames(pcm)[:120] for pcm in sources]
    length = min(len(s) for s in streams)
    singles = [registry.create("vad", EngineSpec("silero")) for _ in streams]
    batched = [registry.create("vad", EngineSpec("silero")) for _ in streams]
    for t in range(length):
        expected = [vad.speech_probability(s[t]) for vad, s in zip(singles, streams, strict=True)]
        got = silero.speech_probabilities(batched, [s[t] for s in streams])
        np.testing.assert_allclose(got, expected, atol=1e-4)
    assert max(expected) != min(expected)  # the streams really differ


def test_webrtc_rejects_wrong_frame_size_and_bad_mode() -> None:
    vad = registry.create("vad", EngineSpec("webrtc", {"mode": 1}))
    with pytest.raises(ProviderError) as excinfo:
        vad.speech_probability(bytes(100))
    assert excinfo.value.category is ErrorCategory.BAD_REQUEST
    with pytest.raises(ProviderError) as excinfo:
        registry.create("vad", EngineSpec("webrtc", {"mode": 4}))
    assert excinfo.value.category is ErrorCategory.BAD_REQUEST


def test_silero_batch_needs_one_session_and_one_frame_each() -> None:
    one = registry.create("vad", EngineSpec("silero"))
    other = registry.create("vad", EngineSpec("silero", {"intra_op_threads": 2}))
    assert silero.speech_probabilities([], []) == []
    with pytest.raises(ValueError):
        silero.speech_probabilities([one, other], [silence(0.02)] * 2)
    with pytest.raises(ValueError):
        silero.speech_probabilities([one], [])
