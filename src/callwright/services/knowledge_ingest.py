"""The ``kb_ingest`` job: turn a knowledge base's pending sources into searchable chunks.

Steps: ``start`` (mark the knowledge base processing, list its pending sources), one step
per source (extract → chunk → embed → replace its chunks, in one transaction, or mark it
failed with the reason), ``finish`` (the knowledge base's status from its sources').
A re-run after a crash replays finished steps; a source step is idempotent anyway (it
replaces the source's chunks and skips a source already settled), so two jobs for the
same knowledge base (a create and a quick edit) cannot duplicate anything.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from callwright.db.models_kb import KnowledgeSource
from callwright.db.repositories import knowledge as kb_repo
from callwright.db.repositories.knowledge import NewChunk
from callwright.db.types import utcnow
from callwright.db.unit_of_work import SessionFactory
from callwright.jobs.port import JobContext
from callwright.knowledge import ingest
from callwright.knowledge.chunking import Chunk, Section, chunk_sections
from callwright.knowledge.dense import Embedder, to_blob
from callwright.knowledge.ingest import IngestError
from callwright.knowledge.limits import KnowledgeLimits
from callwright.knowledge.retriever import EmbedderSource
from callwright.net.errors import DeliveryError, UnsafeURLError
from callwright.net.safe_client import SafeHTTPClient
from callwright.services.knowledge_view import summarise

log = logging.getLogger(__name__)

_ACCEPT = "text/html, text/plain, text/markdown, application/pdf;q=0.9, */*;q=0.1"


@dataclass
class KnowledgeIngester:
    uow: SessionFactory
    http: SafeHTTPClient
    embedders: EmbedderSource
    limits: KnowledgeLimits = field(default_factory=KnowledgeLimits)

    async def run(self, ctx: JobContext, payload: Mapping[str, Any]) -> None:
        kb_id, workspace_id = str(payload["kb_id"]), str(payload["workspace_id"])
        pending: list[str] = await ctx.step("start", lambda: self._start(workspace_id, kb_id))
        for source_id in pending:
            await ctx.step(
                f"source:{source_id}", functools.partial(self._ingest, workspace_id, source_id)
            )
        await ctx.step("finish", lambda: self._finish(workspace_id, kb_id))

    async def _start(self, workspace_id: str, kb_id: str) -> list[str]:
        async with self.uow.begin() as session:
            kb = await kb_repo.get_for_update(session, workspace_id, kb_id)
            if kb is None:
                return []
            sources = await kb_repo.sources(session, workspace_id, kb_id)
            pending = [s.id for s in sources if s.status in ("pending", "processing")]
            if pending:
                kb.status, kb.updated_at = "processing", utcnow()
        return pending

    async def _finish(self, workspace_id: str, kb_id: str) -> None:
        async with self.uow.begin() as session:
            kb = await kb_repo.get_for_update(session, workspace_id, kb_id)
            if kb is None:
                return
            status, reason = summarise(await kb_repo.sources(session, workspace_id, kb_id))
            if status != "processing":  # else another job is still on it and will finish
                kb.status, kb.failure_reason, kb.updated_at = status, reason, utcnow()

    async def _ingest(self, workspace_id: str, source_id: str) -> None:
        async with self.uow.begin() as session:
            src = await kb_repo.source(session, workspace_id, source_id)
            if src is None or src.status in ("completed", "failed"):
                return
            src.status = "processing"
            kind, data, url, content = src.kind, src.data, src.url, src.content
            file_type = src.file_type
        size: int | None = None
        try:
            if kind == "faq":
                faq = content or {}
                sections = [ingest.faq_section(faq.get("question", ""), faq.get("answer", ""))]
            elif kind == "url":
                assert url is not None
                file_type, body = await self._fetch(url)
                size = len(body)
                sections = await asyncio.to_thread(ingest.extract, file_type, body)
            else:
                sections = await asyncio.to_thread(ingest.extract, file_type, data or b"")
            chunks = await asyncio.to_thread(self._chunk, sections)
            rows = await self._embed(chunks)
        except IngestError as exc:
            await self._settle(workspace_id, source_id, error=str(exc))
            return
        except Exception:
            log.exception("ingesting knowledge source %s failed", source_id)
            await self._settle(workspace_id, source_id, error="internal error while processing")
            return
        await self._settle(workspace_id, source_id, chunks=rows, file_type=file_type, size=size)

    def _chunk(self, sections: list[Section]) -> list[Chunk]:
        chars = sum(len(s.text) for s in sections)
        if chars > self.limits.max_text_chars:
            raise IngestError(
                f"too much text: {chars:,} characters (max {self.limits.max_text_chars:,})"
            )
        return chunk_sections(sections)

    async def _embed(self, chunks: list[Chunk]) -> list[NewChunk]:
        embedder = await self.embedders.get()
        if embedder is None:
            return [NewChunk(c.position, c.location, c.text, None, None) for c in chunks]
        vectors = await asyncio.to_thread(_embed_all, embedder, [c.text for c in chunks])
        return [
            NewChunk(c.position, c.location, c.text, to_blob(v), embedder.name)
            for c, v in zip(chunks, vectors, strict=True)
        ]

    async def _fetch(self, url: str) -> tuple[str, bytes]:
        cap = self.limits.max_url_bytes
        try:
            response = await self.http.request(
                "GET",
                url,
                headers=[("User-Agent", "callwright-knowledge/1"), ("Accept", _ACCEPT)],
                max_response_bytes=cap,
            )
        except UnsafeURLError as exc:
            raise IngestError(f"URL refused: {exc.detail or exc.reason}") from exc
        except DeliveryError as exc:
            raise IngestError(f"could not fetch the URL ({exc})") from exc
        status = response.status_code
        if 300 <= status < 400:
            where = response.header("location") or "elsewhere"
            raise IngestError(
                f"the server redirected (HTTP {status}) to {where}; redirects are not "
                "followed: add the final URL"
            )
        if status != 200:
            raise IngestError(f"the server answered HTTP {status}")
        if response.truncated:
            raise IngestError(f"the page is larger than {cap // (1024 * 1024)} MB")
        file_type = ingest.content_type_of(response.header("content-type"))
        if file_type is None:
            file_type = _sniff(response.body)
        return file_type, response.body

    async def _settle(
        self,
        workspace_id: str,
        source_id: str,
        *,
        chunks: list[NewChunk] | None = None,
        error: str | None = None,
        file_type: str | None = None,
        size: int | None = None,
    ) -> None:
        async with self.uow.begin() as session:
            src: KnowledgeSource | None = await kb_repo.source(session, workspace_id, source_id)
            if src is None:  # removed while we worked
                return
            src.processed_at = utcnow()
            if error is not None:
                src.status, src.error = "failed", error[:1000]
                return
            assert chunks is not None
            await kb_repo.replace_chunks(session, src, chunks)
            src.status, src.error, src.chunk_count = "completed", None, len(chunks)
            if file_type is not None and src.kind == "url":
                src.file_type = file_type
            if size is not None:
                src.file_size = size
            await kb_repo.bump_revision(session, workspace_id, src.kb_id)


def _embed_all(embedder: Embedder, texts: list[str]) -> list[Any]:
    # Small slices: a caller's query embedding in the same process gets the CPU between them.
    out: list[Any] = []
    for start in range(0, len(texts), 16):
        out.extend(embedder.embed(texts[start : start + 16]))
    return out


def _sniff(body: bytes) -> str:
    head = body[:1024].lstrip().lower()
    if head.startswith(b"%pdf-"):
        return ingest.PDF
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return ingest.HTML
    return ingest.TEXT
