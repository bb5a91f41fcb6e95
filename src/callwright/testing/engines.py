"""Deterministic fake engines for the provider ports (VAD, STT, LLM, TTS).

They stand in for the offline engines where a test is about the call engine, not about
speech quality. :class:`ScriptedLLM` is the only scripted LLM in the codebase.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any

import numpy as np

from callwright.providers.base import ChatMessage, Transcript
from callwright.testing import marker


class FakeVAD:
    """Energy VAD: probability 1.0 when the frame's RMS reaches ``threshold`` else 0.0."""

    def __init__(self, *, threshold: float = 500.0) -> None:
        self._threshold_sq = threshold * threshold

    def speech_probability(self, frame: bytes) -> float:
        x = np.frombuffer(frame, dtype="<i2").astype(np.float32)
        return 1.0 if x.size and float(np.dot(x, x)) / x.size >= self._threshold_sq else 0.0

    def reset(self) -> None:
        return None


class FakeSTT:
    """Returns ``texts`` in turn (cycling) when given, else decodes marker audio.

    ``delay_s`` simulates recognition time; ``calls`` counts transcriptions.
    """

    def __init__(
        self,
        *,
        texts: Sequence[str] | None = None,
        delay_s: float = 0.0,
        ms_per_char: int = marker.DEFAULT_MS_PER_CHAR,
    ) -> None:
        self._texts = list(texts) if texts else None
        self._delay_s = delay_s
        self._ms_per_char = ms_per_char
        self.calls = 0

    async def transcribe(self, audio: bytes, *, language: str | None = None) -> Transcript:
        index = self.calls
        self.calls += 1
        if self._delay_s > 0:
            await asyncio.sleep(self._delay_s)
        if self._texts is not None:
            text = self._texts[index % len(self._texts)]
        else:
            text = marker.decode(audio, ms_per_char=self._ms_per_char)
        return Transcript(text=text.strip(), language=language)


Reply = str | Sequence[str]  # a whole reply (streamed word by word) or explicit deltas


def _deltas(reply: Reply) -> list[str]:
    if isinstance(reply, str):
        words = reply.split(" ")
        return [w + " " for w in words[:-1]] + [words[-1]]
    return list(reply)


class ScriptedLLM:
    """Replies from a script: the n-th ``stream`` call plays ``replies[n]`` (the last one
    repeats), or ``replies`` may be a function of the messages.

    ``requests`` records the messages of every call; ``closed_early`` counts replies whose
    stream was closed before the end (barge-in).
    """

    def __init__(
        self,
        replies: Sequence[Reply] | Callable[[Sequence[ChatMessage]], Reply],
        *,
        first_token_delay_s: float = 0.0,
        delta_delay_s: float = 0.0,
        json_reply: dict[str, Any] | None = None,
    ) -> None:
        self._replies = replies
        self._first_delay = first_token_delay_s
        self._delta_delay = delta_delay_s
        self._json = json_reply or {}
        self.requests: list[tuple[ChatMessage, ...]] = []
        self.closed_early = 0

    def _pick(self, messages: Sequence[ChatMessage]) -> Reply:
        if callable(self._replies):
            return self._replies(messages)
        n = len(self.requests) - 1
        return self._replies[min(n, len(self._replies) - 1)]

    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.2
    ) -> AsyncGenerator[str, None]:
        self.requests.append(tuple(messages))
        return self._gen(_deltas(self._pick(messages)))

    async def _gen(self, deltas: list[str]) -> AsyncGenerator[str, None]:
        done = False
        try:
            if self._first_delay > 0:
                await asyncio.sleep(self._first_delay)
            for i, delta in enumerate(deltas):
                if i and self._delta_delay > 0:
                    await asyncio.sleep(self._delta_delay)
                yield delta
            done = True
        finally:
            if not done:
                self.closed_early += 1

    async def complete_json(
        self, messages: Sequence[ChatMessage], *, schema: dict[str, Any], max_tokens: int = 512
    ) -> dict[str, Any]:
        self.requests.append(tuple(messages))
        return dict(self._json)


class FakeTTS:
    """Instant TTS: marker audio of ``ms_per_char`` per UTF-8 byte, in ``chunk_ms`` chunks
    (one chunk when None). ``texts`` records what was synthesized."""

    def __init__(
        self,
        *,
        ms_per_char: int = marker.DEFAULT_MS_PER_CHAR,
        chunk_ms: int | None = None,
        delay_s: float = 0.0,
    ) -> None:
        self._ms_per_char = ms_per_char
        self._chunk_bytes = None if chunk_ms is None else max(2, chunk_ms * 32)
        self._delay_s = delay_s
        self.texts: list[str] = []

    def synthesize(self, text: str) -> AsyncGenerator[bytes, None]:
        self.texts.append(text)
        return self._gen(marker.encode(text, ms_per_char=self._ms_per_char))

    async def _gen(self, audio: bytes) -> AsyncGenerator[bytes, None]:
        if self._delay_s > 0:
            await asyncio.sleep(self._delay_s)
        step = self._chunk_bytes or len(audio) or 1
        for i in range(0, len(audio), step):
            yield audio[i : i + step]
