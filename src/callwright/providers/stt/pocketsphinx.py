"""Speech-to-text with CMU PocketSphinx and the en-us model bundled in its wheel.

Much weaker than Whisper on natural speech, but tiny and fast: a fallback when Whisper's
latency or memory is too much. A decoder is not thread-safe and takes about 0.7 s to load,
so the process keeps a small pool of them (``max_decoders``), each used by one utterance
at a time in a worker thread.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from callwright.providers.base import SAMPLE_RATE_HZ, ErrorCategory, ProviderError, Transcript


class PocketSphinxConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_decoders: int = Field(default=2, ge=1, le=16)


class _DecoderPool:
    """Up to ``size`` decoders, created on demand and lent to one thread at a time."""

    def __init__(self, *, size: int) -> None:
        self._idle: queue.Queue[Any] = queue.Queue()
        self._created = 0
        self._size = size
        self._lock = threading.Lock()

    def acquire(self) -> Any:
        with self._lock:
            grow = self._idle.empty() and self._created < self._size
            if grow:
                self._created += 1
        if not grow:
            return self._idle.get()
        try:
            return _new_decoder()
        except BaseException:
            with self._lock:
                self._created -= 1
            raise

    def release(self, decoder: Any) -> None:
        self._idle.put(decoder)


def _new_decoder() -> Any:
    try:
        from pocketsphinx import Decoder
    except ImportError as exc:
        raise ProviderError(
            "stt provider 'pocketsphinx' needs pocketsphinx: pip install 'callwright[engines]'",
            category=ErrorCategory.NOT_INSTALLED,
        ) from exc
    try:
        # The default config is the wheel's bundled en-us acoustic model, LM and dictionary.
        return Decoder(samprate=SAMPLE_RATE_HZ, loglevel="FATAL")
    except Exception as exc:
        raise ProviderError(
            f"cannot load pocketsphinx: {exc}", category=ErrorCategory.NOT_INSTALLED
        ) from exc


class PocketSphinxSTT:
    """Per-call transcriber. Satisfies ``SpeechToText`` (English only)."""

    def __init__(self, *, pool: _DecoderPool) -> None:
        self._pool = pool

    async def transcribe(self, audio: bytes, *, language: str | None = None) -> Transcript:
        if language not in (None, "en", "en-us", "en-US"):
            raise ProviderError(
                f"pocketsphinx only has an English model, not {language!r}",
                category=ErrorCategory.BAD_REQUEST,
            )
        return await asyncio.to_thread(self._run, audio[: len(audio) - len(audio) % 2])

    def _run(self, audio: bytes) -> Transcript:
        decoder = self._pool.acquire()
        try:
            decoder.start_utt()
            decoder.process_raw(audio, full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
        except Exception as exc:
            raise ProviderError(
                f"pocketsphinx failed: {exc}", category=ErrorCategory.INTERNAL
            ) from exc
        finally:
            self._pool.release(decoder)
        if hyp is None:
            return Transcript(text="", language="en")
        return Transcript(text=hyp.hypstr, language="en", confidence=None)


class PocketSphinxProvider:
    name = "pocketsphinx"
    kind = "stt"
    extra = "engines"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: _DecoderPool | None = None

    def config_model(self) -> type[BaseModel]:
        return PocketSphinxConfig

    def create(self, config: BaseModel) -> PocketSphinxSTT:
        assert isinstance(config, PocketSphinxConfig)
        with self._lock:
            if self._pool is None:
                self._pool = _DecoderPool(size=config.max_decoders)
                # Load one decoder now so a missing model fails at create, not mid-call.
                self._pool.release(self._pool.acquire())
            return PocketSphinxSTT(pool=self._pool)


PROVIDER = PocketSphinxProvider()
