"""A fake of the knowledge port: passages from a fixed list, chosen by shared words."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

from callwright.knowledge.port import Passage

_WORD = re.compile(r"\w+")


class FakeKnowledge:
    """Returns the ``k`` passages sharing the most words with the query (none when no word
    is shared). ``delay_s`` simulates a slow lookup; ``fail`` makes every lookup raise;
    ``queries`` records what was asked."""

    def __init__(
        self,
        passages: Sequence[Passage | str],
        *,
        k: int = 3,
        delay_s: float = 0.0,
        fail: bool = False,
    ) -> None:
        self._passages = [
            p if isinstance(p, Passage) else Passage(text=p, source="fake") for p in passages
        ]
        self._k = k
        self._delay_s = delay_s
        self._fail = fail
        self.queries: list[str] = []

    async def lookup(self, query: str) -> list[Passage]:
        self.queries.append(query)
        if self._delay_s > 0:
            await asyncio.sleep(self._delay_s)
        if self._fail:
            raise RuntimeError("knowledge lookup failed (FakeKnowledge(fail=True))")
        words = set(_WORD.findall(query.lower()))
        scored = [
            (len(words & set(_WORD.findall(p.text.lower()))), n, p)
            for n, p in enumerate(self._passages)
        ]
        best = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
        return [p for _, _, p in best[: self._k]]
