"""The knowledge port: what a call asks of its knowledge bases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrieved chunk: its text, where it came from (a file name, a URL or "FAQ"),
    where in that source (``location`` such as "page 3", ``position`` the chunk's order),
    and its fused score (higher is better; comparable only within one lookup)."""

    text: str
    source: str
    location: str = ""
    position: int = 0
    score: float = 0.0
    kb_id: str = ""


@runtime_checkable
class KnowledgeLookup(Protocol):
    async def lookup(self, query: str) -> list[Passage]:
        """The passages most relevant to ``query``, best first (possibly none). Raises
        only on an internal failure; callers treat that as "no passages"."""
        ...
