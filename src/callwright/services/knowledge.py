"""Knowledge bases as an API resource (ringg-api.md §2.9), and the lookup calls use.

Create and edit validate everything that can be checked without reading the content
(counts, sizes, file types, URL syntax and literal addresses, FAQ shape): a bad request is
a 400 and changes nothing. What needs the content (an unreadable PDF, a page whose name
resolves to a private address) is found by the ``kb_ingest`` job, which marks that source
``failed`` with the reason; the rest of the knowledge base stays searchable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from callwright.db.models_kb import KnowledgeBase, KnowledgeSource
from callwright.db.repositories import knowledge as kb_repo
from callwright.db.types import utcnow
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.assistant import VersionSettings
from callwright.domain.errors import InvalidRequest, NotFound
from callwright.domain.ids import new_id
from callwright.jobs.port import JobSpec
from callwright.knowledge import fields, ingest
from callwright.knowledge.limits import MB, KnowledgeLimits, WindowLimiter
from callwright.knowledge.port import KnowledgeLookup, Passage
from callwright.knowledge.retriever import Retriever
from callwright.net.errors import UnsafeURLError
from callwright.net.ssrf import AddressPolicy
from callwright.net.urls import parse_url
from callwright.services.knowledge_view import kb_view, summarise

KB_INGEST_JOB = "kb_ingest"
KB_QUEUE = "kb"  # one ingestion at a time per worker: embedding is CPU-heavy

Enqueue = Callable[[JobSpec], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class UploadedFile:
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class _NewSources:
    files: list[UploadedFile] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    faqs: list[dict[str, str]] = field(default_factory=list)


class KnowledgeBases:
    """The knowledge-base use cases, and the lookups calls make against them."""

    def __init__(
        self,
        *,
        uow: SessionFactory,
        enqueue: Enqueue,
        retriever: Retriever,
        url_policy: AddressPolicy,
        limits: KnowledgeLimits | None = None,
    ) -> None:
        self._uow = uow
        self._enqueue = enqueue
        self.retriever = retriever
        self._policy = url_policy
        self.limits = limits or KnowledgeLimits()
        self.limiter = WindowLimiter(self.limits)

    # ------------------------------------------------------------------ validation

    def _check_files(
        self, files: Sequence[UploadedFile], *, kept_count: int, kept_bytes: int
    ) -> None:
        lim = self.limits
        if kept_count + len(files) > lim.max_files:
            raise InvalidRequest(f"At most {lim.max_files} files per knowledge base")
        total = kept_bytes
        for f in files:
            name = f.filename or "(unnamed)"
            file_type = ingest.file_type_of(name)
            if file_type is None:
                allowed = ", ".join(ingest.SUPPORTED_EXTENSIONS)
                raise InvalidRequest(f"Unsupported file type: {name} (supported: {allowed})")
            if not f.data:
                raise InvalidRequest(f"File is empty: {name}")
            if len(f.data) > lim.max_file_bytes:
                raise InvalidRequest(
                    f"File too large: {name} is {len(f.data) / MB:.1f} MB "
                    f"(max {lim.max_file_bytes // MB} MB per file)"
                )
            if not ingest.looks_like(file_type, f.data):
                raise InvalidRequest(f"File content does not match its type: {name}")
            total += len(f.data)
        if total > lim.max_total_bytes:
            raise InvalidRequest(
                f"Files too large in total: {total / MB:.1f} MB "
                f"(max {lim.max_total_bytes // MB} MB per knowledge base)"
            )

    def _check_urls(self, urls: Sequence[str], *, kept: int) -> None:
        if kept + len(urls) > self.limits.max_urls:
            raise InvalidRequest(f"At most {self.limits.max_urls} URLs per knowledge base")
        for url in urls:
            try:
                target = parse_url(url)
            except UnsafeURLError as exc:
                raise InvalidRequest(f"Invalid URL {url!r}: {exc}") from exc
            if target.scheme == "http" and not self._policy.allow_http:
                raise InvalidRequest(f"URL {url!r} must use https")
            reason = self._policy.refusal(target.ip) if target.ip is not None else None
            if reason is not None:
                raise InvalidRequest(f"URL {url!r} points to a {reason} address")

    # ------------------------------------------------------------------ use cases

    async def create(
        self,
        workspace_id: str,
        *,
        name: str,
        files: Sequence[UploadedFile],
        urls_json: str | None,
        faqs_json: str | None,
    ) -> dict[str, Any]:
        name = name.strip()
        if not name:
            raise InvalidRequest("'kb_name' is required")
        if len(name) > 200:
            raise InvalidRequest("'kb_name' is longer than 200 characters")
        new = _NewSources(
            list(files),
            fields.string_list(urls_json, "urls"),
            fields.faqs(fields.parse_json_list(faqs_json, "faqs"), "faqs", self.limits),
        )
        self._check_files(new.files, kept_count=0, kept_bytes=0)
        self._check_urls(new.urls, kept=0)
        if len(new.faqs) > self.limits.max_faqs:
            raise InvalidRequest(f"At most {self.limits.max_faqs} FAQs per knowledge base")
        now = utcnow()
        kb = KnowledgeBase(
            id=new_id(),
            workspace_id=workspace_id,
            name=name,
            status="pending",
            revision=0,
            created_at=now,
            updated_at=now,
        )
        async with self._uow.begin() as session:
            session.add(kb)
            await session.flush()
            added = self._add_sources(session, kb, new, {})
        await self._schedule(kb)
        return {
            "message": "Knowledge Base creation initiated",
            "kb_id": kb.id,
            "processing_status": "pending",
            "files_queued": len(added),
        }

    async def edit(
        self,
        workspace_id: str,
        *,
        kb_id: str,
        files_to_remove: str | None,
        urls_to_remove: str | None,
        faqs_to_remove: str | None,
        new_files: Sequence[UploadedFile],
        new_urls: str | None,
        new_faqs: str | None,
        new_files_metadata: str | None,
    ) -> dict[str, Any]:
        remove_files = set(fields.string_list(files_to_remove, "files_to_remove"))
        remove_urls = set(fields.string_list(urls_to_remove, "urls_to_remove"))
        remove_faqs = set(fields.string_list(faqs_to_remove, "faqs_to_remove"))
        new = _NewSources(
            list(new_files),
            fields.string_list(new_urls, "new_urls"),
            fields.faqs(fields.parse_json_list(new_faqs, "new_faqs"), "new_faqs", self.limits),
        )
        metadata = fields.parse_json_object(new_files_metadata, "new_files_metadata")
        async with self._uow.begin() as session:
            kb = await kb_repo.get_for_update(session, workspace_id, kb_id)
            if kb is None:
                raise NotFound("Knowledge Base not found")
            existing = await kb_repo.sources(session, workspace_id, kb_id)
            doomed: list[str] = []
            # files and FAQs are removed by id, URLs by the URL itself
            for kind, wanted in (
                ("file", remove_files),
                ("url", remove_urls),
                ("faq", remove_faqs),
            ):
                matches = {
                    (s.url or "") if kind == "url" else s.id: s.id
                    for s in existing
                    if s.kind == kind
                }
                missing = sorted(wanted - set(matches))
                if missing:
                    raise InvalidRequest(
                        f"Not in this knowledge base ({kind}s): {', '.join(missing)}"
                    )
                doomed += [matches[key] for key in wanted]
            kept = [s for s in existing if s.id not in doomed]
            self._check_files(
                new.files,
                kept_count=sum(1 for s in kept if s.kind == "file"),
                kept_bytes=sum(s.file_size for s in kept if s.kind == "file"),
            )
            self._check_urls(new.urls, kept=sum(1 for s in kept if s.kind == "url"))
            if sum(1 for s in kept if s.kind == "faq") + len(new.faqs) > self.limits.max_faqs:
                raise InvalidRequest(f"At most {self.limits.max_faqs} FAQs per knowledge base")
            removed = await kb_repo.delete_sources(session, workspace_id, kb_id, doomed)
            added = self._add_sources(session, kb, new, metadata)
            kb.updated_at = utcnow()
            if removed:
                kb.revision += 1
            if added:
                kb.status = "pending"
            else:
                kb.status, kb.failure_reason = summarise(kept)
        if added:
            await self._schedule(kb)
        return {
            "message": "Knowledge Base edit initiated",
            "kb_id": kb_id,
            "items_removed": removed,
            "new_files_queued": sum(1 for s in added if s.kind == "file"),
            "new_files": [
                {"filename": s.filename, "file_id": s.id, "processing_status": "pending"}
                for s in added
                if s.kind == "file"
            ],
            "new_urls": [{"url": s.url, "file_id": s.id} for s in added if s.kind == "url"],
            "new_faqs": [{"file_id": s.id, "content": s.content} for s in added if s.kind == "faq"],
        }

    def _add_sources(
        self, session: Any, kb: KnowledgeBase, new: _NewSources, metadata: dict[str, Any]
    ) -> list[KnowledgeSource]:
        now = utcnow()
        rows: list[KnowledgeSource] = []
        for f in new.files:
            meta = metadata.get(f.filename)
            rows.append(
                KnowledgeSource(
                    id=new_id(),
                    kind="file",
                    filename=f.filename[:255],
                    file_type=ingest.file_type_of(f.filename) or "",
                    file_size=len(f.data),
                    data=f.data,
                    meta=meta if isinstance(meta, dict) else {},
                )
            )
        for url in new.urls:
            rows.append(
                KnowledgeSource(
                    id=new_id(), kind="url", url=url, file_type="url", file_size=0, meta={}
                )
            )
        for faq in new.faqs:
            rows.append(
                KnowledgeSource(
                    id=new_id(),
                    kind="faq",
                    content=faq,
                    file_type=ingest.FAQ,
                    file_size=len(faq["question"]) + len(faq["answer"]),
                    meta={},
                )
            )
        for n, row in enumerate(rows):
            row.kb_id, row.workspace_id, row.status, row.chunk_count = (
                kb.id,
                kb.workspace_id,
                "pending",
                0,
            )
            row.created_at = now + timedelta(microseconds=n)  # keeps upload order
        session.add_all(rows)
        return rows

    async def _schedule(self, kb: KnowledgeBase) -> None:
        await self._enqueue(ingest_job(kb.workspace_id, kb.id, new_id()))

    async def get(self, workspace_id: str, kb_id: str) -> dict[str, Any]:
        async with self._uow() as session:
            kb = await kb_repo.get(session, workspace_id, kb_id)
            if kb is None:
                raise NotFound("Knowledge Base not found")
            sources = await kb_repo.sources(session, workspace_id, kb_id)
        return kb_view(kb, sources)

    async def all(self, workspace_id: str) -> list[dict[str, Any]]:
        async with self._uow() as session:
            rows = await kb_repo.all_of(session, workspace_id)
        return [
            {
                "kb_id": kb.id,
                "kb_name": kb.name,
                "type": kb.kb_type,
                "created_at": kb.created_at,
                "status": kb.status,
            }
            for kb in rows
        ]

    async def delete(self, workspace_id: str, kb_id: str) -> dict[str, Any]:
        async with self._uow.begin() as session:
            kb = await kb_repo.get(session, workspace_id, kb_id)
            if kb is None:
                raise NotFound("Knowledge Base not found")
            await kb_repo.delete_kb(session, workspace_id, kb_id)
        self.retriever.forget(kb_id)
        return {"message": "Knowledge Base deleted successfully", "kb_id": kb_id}

    # ------------------------------------------------------------------ calls

    def for_call(self, workspace_id: str, settings: VersionSettings) -> KnowledgeLookup | None:
        """The lookup a call of an assistant version makes, or None without attached KBs."""
        return attached_knowledge(self.retriever, workspace_id, settings)


def attached_knowledge(
    retriever: Retriever, workspace_id: str, settings: VersionSettings
) -> KnowledgeLookup | None:
    """The lookup over the knowledge bases attached to ``settings``, or None without any.
    (Free of :class:`KnowledgeBases` so ``callwright simulate`` needs only a retriever.)"""
    kb_ids = tuple(
        kb["knowledge_base_id"] for kb in settings.knowledge_bases if kb.get("knowledge_base_id")
    )
    if not kb_ids:
        return None
    return AttachedKnowledge(retriever, workspace_id, kb_ids)


@dataclass(frozen=True, slots=True)
class AttachedKnowledge:
    """The knowledge bases attached to one call's assistant."""

    retriever: Retriever
    workspace_id: str
    kb_ids: tuple[str, ...]
    k: int = 4

    async def lookup(self, query: str) -> list[Passage]:
        return await self.retriever.search(self.workspace_id, self.kb_ids, query, k=self.k)


def ingest_job(workspace_id: str, kb_id: str, token: str) -> JobSpec:
    return JobSpec(
        kind=KB_INGEST_JOB,
        key=f"kb_ingest:{kb_id}:{token}",
        payload={"kb_id": kb_id, "workspace_id": workspace_id},
        queue=KB_QUEUE,
    )


async def requeue_pending(uow: SessionFactory, enqueue: Enqueue) -> int:
    """At start-up: schedule ingestion for knowledge bases left pending or processing (a
    crash between commit and enqueue). Ingestion is idempotent, so a repeat is harmless."""
    from sqlalchemy import select

    async with uow() as session:
        rows = (
            await session.execute(
                select(KnowledgeBase.workspace_id, KnowledgeBase.id).where(
                    KnowledgeBase.status.in_(("pending", "processing"))
                )
            )
        ).all()
    for workspace_id, kb_id in rows:
        await enqueue(ingest_job(workspace_id, kb_id, f"boot-{new_id()}"))
    return len(rows)
