"""Grounding a call's replies in its knowledge bases: an LLM wrapper.

:class:`GroundedLLM` wraps the call's language model. For each reply it looks up the
caller's last turn, puts the passages found into the system message, and streams the
inner model's answer. When the lookup is slow (longer than ``filler_after_s``) it first
yields one of the assistant's ``pre_query_response_phrases`` (with probability
``pre_query_phrase_probability``): the call engine speaks it as the reply's first sentence
while the lookup finishes, so the caller is not left in silence. A failed or timed-out
lookup never fails the reply: the model answers without passages.

Wrapping the model (instead of teaching the call engine about knowledge bases) keeps
the media code unchanged: the engine streams text from "the LLM" as it always does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from callwright.knowledge.port import KnowledgeLookup, Passage
from callwright.providers.base import ChatMessage, LanguageModel

log = logging.getLogger(__name__)

DEFAULT_FILLER = "One moment, let me check that."
FILLER_AFTER_S = 0.3  # a lookup slower than this gets a filler phrase
LOOKUP_TIMEOUT_S = 3.0
MAX_CONTEXT_CHARS = 2400  # what a small model can take in without losing the question

CONTEXT_HEADER = (
    "Knowledge base excerpts for the caller's last message. Answer from them when they "
    "hold the answer; never invent facts, prices or policies that are not in them or in "
    "your instructions."
)


def context_block(passages: Sequence[Passage], *, max_chars: int = MAX_CONTEXT_CHARS) -> str:
    """The passages as numbered lines with their source, within ``max_chars``."""
    lines: list[str] = []
    used = 0
    for n, passage in enumerate(passages, start=1):
        where = f"{passage.source}, {passage.location}" if passage.location else passage.source
        line = f"[{n}] ({where}) {passage.text}"
        if lines and used + len(line) > max_chars:
            break
        lines.append(line[:max_chars])
        used += len(line)
    return CONTEXT_HEADER + "\n" + "\n".join(lines)


def grounded_messages(
    messages: Sequence[ChatMessage], passages: Sequence[Passage]
) -> list[ChatMessage]:
    """``messages`` with the passages appended to the system message (or a new one)."""
    out = list(messages)
    if not passages:
        return out
    block = context_block(passages)
    if out and out[0].role == "system":
        out[0] = ChatMessage("system", f"{out[0].content}\n\n{block}")
    else:
        out.insert(0, ChatMessage("system", block))
    return out


class GroundedLLM:
    """A :class:`LanguageModel` that consults ``knowledge`` before each streamed reply."""

    def __init__(
        self,
        *,
        inner: LanguageModel,
        knowledge: KnowledgeLookup,
        phrases: Sequence[str] = (),
        phrase_probability: float = 0.6,
        filler_after_s: float = FILLER_AFTER_S,
        lookup_timeout_s: float = LOOKUP_TIMEOUT_S,
        rng: random.Random | None = None,
    ) -> None:
        self._inner = inner
        self._knowledge = knowledge
        self._phrases = [p.strip() for p in phrases if p.strip()] or [DEFAULT_FILLER]
        self._probability = phrase_probability
        self._filler_after_s = filler_after_s
        self._timeout_s = lookup_timeout_s
        self._rng = rng or random.Random()
        self.lookups: list[tuple[str, list[Passage]]] = []  # (query, passages) per reply
        self.fillers = 0

    @property
    def inner(self) -> LanguageModel:
        return self._inner

    def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int = 256, temperature: float = 0.2
    ) -> AsyncGenerator[str, None]:
        return self._stream(list(messages), max_tokens, temperature)

    async def _stream(
        self, messages: list[ChatMessage], max_tokens: int, temperature: float
    ) -> AsyncGenerator[str, None]:
        query = messages[-1].content if messages and messages[-1].role == "user" else ""
        passages: list[Passage] = []
        if query.strip():
            task = asyncio.create_task(self._lookup(query))
            try:
                done, _ = await asyncio.wait({task}, timeout=self._filler_after_s)
                if not done and self._rng.random() < self._probability:
                    self.fillers += 1
                    # A whole sentence with its trailing space: spoken at once.
                    yield self._rng.choice(self._phrases).rstrip() + " "
                passages = await task
            finally:
                if not task.done():  # the reply was cancelled (barge-in) mid-lookup
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            self.lookups.append((query, passages))
        deltas = self._inner.stream(
            grounded_messages(messages, passages), max_tokens=max_tokens, temperature=temperature
        )
        try:
            async for delta in deltas:
                yield delta
        finally:
            aclose = getattr(deltas, "aclose", None)
            if aclose is not None:
                await aclose()

    async def _lookup(self, query: str) -> list[Passage]:
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._knowledge.lookup(query)
        except TimeoutError:
            log.warning(
                "knowledge lookup took longer than %.1f s; answering without it", self._timeout_s
            )
        except Exception:
            log.warning("knowledge lookup failed; answering without it", exc_info=True)
        return []

    async def complete_json(
        self, messages: Sequence[ChatMessage], *, schema: dict[str, Any], max_tokens: int = 512
    ) -> dict[str, Any]:
        return await self._inner.complete_json(messages, schema=schema, max_tokens=max_tokens)
