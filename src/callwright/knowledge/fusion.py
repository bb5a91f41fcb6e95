"""Reciprocal rank fusion (Cormack, Clarke and Büttcher, 2009).

Each ranking contributes ``1 / (k + rank)`` (rank from 1) to an item's score; items are
ordered by the sum. It needs no score calibration between retrievers, which is why it
suits BM25 scores and cosine similarities side by side.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]],
    *,
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
    limit: int | None = None,
) -> list[tuple[K, float]]:
    """Fuse best-first ``rankings`` into one best-first list of (item, score); ranking
    ``i`` counts ``weights[i]`` times (default 1). Ties keep the order in which items were
    first seen (earlier rankings first)."""
    scores: dict[K, float] = {}
    for n, ranking in enumerate(rankings):
        weight = 1.0 if weights is None else weights[n]
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    fused = sorted(scores.items(), key=lambda pair: -pair[1])  # stable: first-seen order
    return fused if limit is None else fused[:limit]
