"""Splitting extracted text into retrievable chunks that keep their source and position.

A chunk is a run of whole sentences of about ``target_chars`` (a paragraph or two: long
enough to carry a fact with its context, short enough to keep the LLM prompt small),
starting with the last ``overlap_chars`` of the previous chunk so a fact that straddles a
boundary is whole in one of them. Chunks never span sections (PDF pages, documents).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

TARGET_CHARS = 600
OVERLAP_CHARS = 120

_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n{2,}")
_SPACES = re.compile(r"[ \t\r\f\v]+")


@dataclass(frozen=True, slots=True)
class Section:
    """Text extracted from one part of a source; ``location`` says which ("page 3")."""

    text: str
    location: str = ""


@dataclass(frozen=True, slots=True)
class Chunk:
    position: int  # order within its source, from 0
    location: str
    text: str


def normalise(text: str) -> str:
    """Collapse runs of spaces, keep paragraph breaks, drop NULs and control characters."""
    text = "".join(ch for ch in text if ch in "\n\t" or ch >= " ")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


def _sentences(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    for raw in _SENTENCE.split(text):
        sentence = " ".join(raw.split())
        while len(sentence) > limit:  # a run-on "sentence" (tables, lists): cut at a space
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    return pieces


def chunk_sections(
    sections: Iterable[Section],
    *,
    target_chars: int = TARGET_CHARS,
    overlap_chars: int = OVERLAP_CHARS,
) -> list[Chunk]:
    """Chunks of every section in order, numbered from 0 across the whole source."""
    chunks: list[Chunk] = []
    for section in sections:
        current: list[str] = []
        size = 0
        fresh = 0  # sentences in ``current`` not yet emitted in an earlier chunk
        for sentence in _sentences(normalise(section.text), target_chars):
            if current and size + 1 + len(sentence) > target_chars and fresh:
                chunks.append(Chunk(len(chunks), section.location, " ".join(current)))
                carry: list[str] = []
                carried = 0
                for previous in reversed(current):
                    if carried + len(previous) > overlap_chars:
                        break
                    carry.insert(0, previous)
                    carried += len(previous) + 1
                current, size, fresh = carry, max(carried - 1, 0), 0
            current.append(sentence)
            size += len(sentence) + (1 if size else 0)
            fresh += 1
        if current and fresh:
            chunks.append(Chunk(len(chunks), section.location, " ".join(current)))
    return chunks
