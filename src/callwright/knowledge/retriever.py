"""Hybrid retrieval over a workspace's knowledge bases: full-text and dense, fused by RRF.

Lexical search runs in the database (FTS5 / tsvector). Dense search embeds the query and
takes cosine similarities against every chunk vector of the attached knowledge bases,
held in memory per knowledge base and reloaded when its ``revision`` changes (a few
thousand 384-wide vectors is a few MB and a sub-millisecond product). Without an embedder
(model not installed, or dense retrieval turned off) retrieval is lexical only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from callwright.db.repositories import knowledge as kb_repo
from callwright.db.unit_of_work import SessionFactory
from callwright.knowledge.dense import Embedder, Matrix, from_blob, load_embedder
from callwright.knowledge.fusion import reciprocal_rank_fusion
from callwright.knowledge.lexical import query_terms
from callwright.knowledge.port import Passage
from callwright.providers.base import ProviderError

log = logging.getLogger(__name__)

CANDIDATES = 20  # per retriever, before fusion
TOP_K = 4
LEXICAL_WEIGHT = 1.0  # weight of the full-text ranking in the fusion (dense counts 1)


class EmbedderSource:
    """The embedder, loaded once on first use in a thread. A load failure is remembered:
    the process then runs lexical-only and says so once in the log. ``enabled=False`` is
    the deliberate no-dense mode."""

    def __init__(
        self, *, enabled: bool = True, loader: Callable[[], Embedder] = load_embedder
    ) -> None:
        self._enabled = enabled
        self._loader = loader
        self._embedder: Embedder | None = None
        self._failed: str | None = None if enabled else "dense retrieval is turned off"
        self._lock = asyncio.Lock()

    @property
    def unavailable_reason(self) -> str | None:
        return self._failed

    async def get(self) -> Embedder | None:
        if self._embedder is not None or self._failed is not None:
            return self._embedder
        async with self._lock:
            if self._embedder is None and self._failed is None:
                try:
                    self._embedder = await asyncio.to_thread(self._loader)
                except ProviderError as exc:
                    self._failed = str(exc)
                    log.warning("knowledge bases run lexical-only: %s", exc)
        return self._embedder


@dataclass(slots=True)
class _DenseIndex:
    revision: int
    ids: npt.NDArray[np.int64]
    matrix: Matrix


@dataclass(frozen=True, slots=True)
class Rankings:
    """Best-first chunk ids from each retriever and fused."""

    lexical: list[int]
    dense: list[int]
    fused: list[int]


class Retriever:
    def __init__(
        self,
        *,
        uow: SessionFactory,
        embedders: EmbedderSource,
        candidates: int = CANDIDATES,
        lexical_weight: float = LEXICAL_WEIGHT,
    ) -> None:
        self.lexical_weight = lexical_weight
        self._uow = uow
        self._embedders = embedders
        self._candidates = candidates
        self._indexes: dict[str, _DenseIndex] = {}

    async def search(
        self, workspace_id: str, kb_ids: Sequence[str], query: str, *, k: int = TOP_K
    ) -> list[Passage]:
        """The ``k`` best passages for ``query`` across ``kb_ids``, best first."""
        ranked = await self.rank(workspace_id, kb_ids, query)
        scores = dict(
            reciprocal_rank_fusion(
                [ranked.lexical, ranked.dense], weights=(self.lexical_weight, 1.0)
            )
        )
        top = ranked.fused[:k]
        async with self._uow() as session:
            views = await kb_repo.chunks_by_id(session, workspace_id, top)
        return [
            Passage(
                text=v.text,
                source=v.source,
                location=v.location,
                position=v.position,
                score=scores[cid],
                kb_id=v.kb_id,
            )
            for cid in top
            if (v := views.get(cid)) is not None
        ]

    async def rank(self, workspace_id: str, kb_ids: Sequence[str], query: str) -> Rankings:
        if not kb_ids or not query.strip():
            return Rankings([], [], [])
        embedder = await self._embedders.get()
        # The query's embedding (most of a search's time) is computed while the database is
        # searched; numpy leaves the GIL to the other thread while it multiplies.
        embedding = (
            asyncio.ensure_future(asyncio.to_thread(embedder.embed, [query]))
            if embedder is not None
            else None
        )
        try:
            async with self._uow() as session:
                lexical = await kb_repo.lexical_search(
                    session, workspace_id, kb_ids, query_terms(query), limit=self._candidates
                )
                indexes: list[_DenseIndex] = []
                if embedder is not None:
                    current = await kb_repo.revisions(session, workspace_id, kb_ids)
                    for kb_id, revision in current.items():
                        index = self._indexes.get(kb_id)
                        if index is None or index.revision != revision:
                            rows = await kb_repo.vectors(
                                session, workspace_id, kb_id, embedder.name
                            )
                            index = _build_index(revision, rows)
                            self._indexes[kb_id] = index
                        indexes.append(index)
        except BaseException:
            if embedding is not None:
                embedding.cancel()
            raise
        dense: list[int] = []
        if embedding is not None:
            vector = (await embedding)[0]
            if any(len(ix.ids) for ix in indexes):  # a big scan: off the calls' event loop
                dense = await asyncio.to_thread(_dense_rank, vector, indexes, self._candidates)
        fused = [
            cid
            for cid, _ in reciprocal_rank_fusion(
                [lexical, dense], weights=(self.lexical_weight, 1.0)
            )
        ]
        return Rankings(lexical, dense, fused)

    def forget(self, kb_id: str) -> None:
        """Drop the cached vectors of a deleted knowledge base."""
        self._indexes.pop(kb_id, None)


def _build_index(revision: int, rows: list[tuple[int, bytes]]) -> _DenseIndex:
    if not rows:
        return _DenseIndex(revision, np.zeros(0, np.int64), np.zeros((0, 0), np.float32))
    ids = np.array([cid for cid, _ in rows], dtype=np.int64)
    matrix = np.stack([from_blob(blob) for _, blob in rows])
    return _DenseIndex(revision, ids, matrix)


def _dense_rank(
    vector: npt.NDArray[np.float32], indexes: list[_DenseIndex], limit: int
) -> list[int]:
    ids: list[npt.NDArray[np.int64]] = []
    sims: list[npt.NDArray[np.float32]] = []
    for index in indexes:
        if len(index.ids) and index.matrix.shape[1] == vector.shape[0]:
            ids.append(index.ids)
            sims.append(index.matrix @ vector)
    if not ids:
        return []
    all_ids, all_sims = np.concatenate(ids), np.concatenate(sims)
    n = min(limit, len(all_ids))
    best = np.argpartition(-all_sims, n - 1)[:n]
    best = best[np.argsort(-all_sims[best])]
    return [int(all_ids[i]) for i in best]
