"""Knowledge bases, their sources and chunks; full-text search per dialect.

Every query is scoped by workspace. Lexical search uses the index migration 0007 made:
FTS5 ``bm25`` on SQLite (lower is better) and ``ts_rank_cd`` over the ``tsv`` column on
PostgreSQL (higher is better); both return chunk ids best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models_kb import KnowledgeBase, KnowledgeChunk, KnowledgeSource
from callwright.db.types import utcnow
from callwright.knowledge.lexical import fts5_query, websearch_query


async def get(session: AsyncSession, workspace_id: str, kb_id: str) -> KnowledgeBase | None:
    return await session.scalar(
        select(KnowledgeBase).where(
            KnowledgeBase.id == kb_id, KnowledgeBase.workspace_id == workspace_id
        )
    )


async def get_for_update(
    session: AsyncSession, workspace_id: str, kb_id: str
) -> KnowledgeBase | None:
    """The row, locked until the transaction ends on PostgreSQL (SQLite has one writer)."""
    return await session.scalar(
        select(KnowledgeBase)
        .where(KnowledgeBase.id == kb_id, KnowledgeBase.workspace_id == workspace_id)
        .with_for_update()
    )


async def all_of(session: AsyncSession, workspace_id: str) -> Sequence[KnowledgeBase]:
    rows = await session.scalars(
        select(KnowledgeBase)
        .where(KnowledgeBase.workspace_id == workspace_id)
        .order_by(KnowledgeBase.created_at.desc(), KnowledgeBase.id)
    )
    return rows.all()


async def sources(
    session: AsyncSession, workspace_id: str, kb_id: str
) -> Sequence[KnowledgeSource]:
    rows = await session.scalars(
        select(KnowledgeSource)
        .where(KnowledgeSource.kb_id == kb_id, KnowledgeSource.workspace_id == workspace_id)
        .order_by(KnowledgeSource.created_at, KnowledgeSource.id)
    )
    return rows.all()


async def source(
    session: AsyncSession, workspace_id: str, source_id: str
) -> KnowledgeSource | None:
    return await session.scalar(
        select(KnowledgeSource).where(
            KnowledgeSource.id == source_id, KnowledgeSource.workspace_id == workspace_id
        )
    )


async def delete_kb(session: AsyncSession, workspace_id: str, kb_id: str) -> None:
    """The knowledge base with its sources and chunks (explicitly: not every engine
    enforces the foreign-key cascade)."""
    for model in (KnowledgeChunk, KnowledgeSource):
        await session.execute(
            delete(model).where(model.kb_id == kb_id, model.workspace_id == workspace_id)
        )
    await session.execute(
        delete(KnowledgeBase).where(
            KnowledgeBase.id == kb_id, KnowledgeBase.workspace_id == workspace_id
        )
    )


async def delete_sources(
    session: AsyncSession, workspace_id: str, kb_id: str, source_ids: Sequence[str]
) -> int:
    if not source_ids:
        return 0
    await session.execute(
        delete(KnowledgeChunk).where(
            KnowledgeChunk.workspace_id == workspace_id,
            KnowledgeChunk.kb_id == kb_id,
            KnowledgeChunk.source_id.in_(source_ids),
        )
    )
    result = await session.execute(
        delete(KnowledgeSource).where(
            KnowledgeSource.workspace_id == workspace_id,
            KnowledgeSource.kb_id == kb_id,
            KnowledgeSource.id.in_(source_ids),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class NewChunk:
    position: int
    location: str
    text: str
    embedding: bytes | None
    embedding_model: str | None


async def replace_chunks(
    session: AsyncSession, src: KnowledgeSource, chunks: Sequence[NewChunk]
) -> None:
    """Make ``chunks`` the only chunks of ``src`` (a re-run replaces, never duplicates)."""
    await session.execute(
        delete(KnowledgeChunk).where(
            KnowledgeChunk.source_id == src.id, KnowledgeChunk.workspace_id == src.workspace_id
        )
    )
    session.add_all(
        KnowledgeChunk(
            kb_id=src.kb_id,
            source_id=src.id,
            workspace_id=src.workspace_id,
            position=c.position,
            location=c.location,
            text=c.text,
            embedding=c.embedding,
            embedding_model=c.embedding_model,
        )
        for c in chunks
    )


async def bump_revision(session: AsyncSession, workspace_id: str, kb_id: str) -> None:
    await session.execute(
        update(KnowledgeBase)
        .where(KnowledgeBase.id == kb_id, KnowledgeBase.workspace_id == workspace_id)
        .values(revision=KnowledgeBase.revision + 1, updated_at=utcnow())
    )


async def revisions(
    session: AsyncSession, workspace_id: str, kb_ids: Sequence[str]
) -> dict[str, int]:
    """Revision of each existing knowledge base among ``kb_ids``."""
    rows = await session.execute(
        select(KnowledgeBase.id, KnowledgeBase.revision).where(
            KnowledgeBase.workspace_id == workspace_id, KnowledgeBase.id.in_(kb_ids)
        )
    )
    return {kb_id: revision for kb_id, revision in rows.all()}


async def vectors(
    session: AsyncSession, workspace_id: str, kb_id: str, model: str
) -> list[tuple[int, bytes]]:
    rows = await session.execute(
        select(KnowledgeChunk.id, KnowledgeChunk.embedding)
        .where(
            KnowledgeChunk.workspace_id == workspace_id,
            KnowledgeChunk.kb_id == kb_id,
            KnowledgeChunk.embedding_model == model,
        )
        .order_by(KnowledgeChunk.id)
    )
    return [(chunk_id, blob) for chunk_id, blob in rows.all() if blob is not None]


_SQLITE_SEARCH = text(
    "SELECT c.id FROM kb_chunks_fts JOIN kb_chunks c ON c.id = kb_chunks_fts.rowid "
    "WHERE kb_chunks_fts MATCH :query AND c.workspace_id = :ws AND c.kb_id IN :kbs "
    "ORDER BY bm25(kb_chunks_fts) LIMIT :limit"
).bindparams(bindparam("kbs", expanding=True))
_PG_SEARCH = text(
    "SELECT c.id FROM kb_chunks c, websearch_to_tsquery('english', :query) q "
    "WHERE c.tsv @@ q AND c.workspace_id = :ws AND c.kb_id IN :kbs "
    "ORDER BY ts_rank_cd(c.tsv, q) DESC, c.id LIMIT :limit"
).bindparams(bindparam("kbs", expanding=True))


async def lexical_search(
    session: AsyncSession,
    workspace_id: str,
    kb_ids: Sequence[str],
    terms: list[str],
    *,
    limit: int,
) -> list[int]:
    """Chunk ids matching any of ``terms`` (already reduced to words), best first."""
    if not terms or not kb_ids:
        return []
    sqlite = session.get_bind().dialect.name == "sqlite"
    statement = _SQLITE_SEARCH if sqlite else _PG_SEARCH
    query = fts5_query(terms) if sqlite else websearch_query(terms)
    rows = await session.execute(
        statement, {"query": query, "ws": workspace_id, "kbs": list(kb_ids), "limit": limit}
    )
    return [int(chunk_id) for (chunk_id,) in rows.all()]


@dataclass(frozen=True, slots=True)
class ChunkView:
    id: int
    kb_id: str
    text: str
    location: str
    position: int
    source: str  # file name, URL, or "FAQ"


async def chunks_by_id(
    session: AsyncSession, workspace_id: str, chunk_ids: Sequence[int]
) -> dict[int, ChunkView]:
    if not chunk_ids:
        return {}
    rows = await session.execute(
        select(
            KnowledgeChunk.id,
            KnowledgeChunk.kb_id,
            KnowledgeChunk.text,
            KnowledgeChunk.location,
            KnowledgeChunk.position,
            KnowledgeSource.kind,
            KnowledgeSource.filename,
            KnowledgeSource.url,
        )
        .join(KnowledgeSource, KnowledgeSource.id == KnowledgeChunk.source_id)
        .where(KnowledgeChunk.workspace_id == workspace_id, KnowledgeChunk.id.in_(chunk_ids))
    )
    out: dict[int, ChunkView] = {}
    for cid, kb_id, body, location, position, kind, filename, url in rows.all():
        name = filename if kind == "file" else url if kind == "url" else "FAQ"
        out[cid] = ChunkView(cid, kb_id, body, location, position, name or kind)
    return out


async def chunk_count(session: AsyncSession, workspace_id: str, kb_id: str) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(KnowledgeChunk)
        .where(KnowledgeChunk.workspace_id == workspace_id, KnowledgeChunk.kb_id == kb_id)
    )
    return int(count or 0)
