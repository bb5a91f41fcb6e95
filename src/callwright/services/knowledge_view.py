"""How a knowledge base and its sources look from outside: the status its sources add up to,
and the Ringg-shaped view the API returns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from callwright.db.models_kb import KnowledgeBase, KnowledgeSource


def summarise(sources: Sequence[KnowledgeSource]) -> tuple[str, str | None]:
    """A knowledge base's status from its sources': processing while any is unfinished,
    failed (with every reason) when any failed, else completed."""
    if any(s.status in ("pending", "processing") for s in sources):
        return "processing", None
    failed = [s for s in sources if s.status == "failed"]
    if failed:
        return "failed", "; ".join(f"{source_name(s)}: {s.error}" for s in failed)
    return "completed", None


def source_name(s: KnowledgeSource) -> str:
    if s.kind == "file":
        return s.filename or s.id
    if s.kind == "url":
        return s.url or s.id
    return f"FAQ {s.id}"


def kb_view(kb: KnowledgeBase, sources: Sequence[KnowledgeSource]) -> dict[str, Any]:
    def item(s: KnowledgeSource) -> dict[str, Any]:
        base: dict[str, Any] = {
            "file_id": s.id,
            "file_type": s.file_type,
            "file_size": s.file_size,
            "processing_status": s.status,
            "error": s.error,
            "chunks": s.chunk_count,
        }
        if s.kind == "file":
            base |= {
                "filename": s.filename,
                "file_path": f"kb/{kb.id}/{s.id}/{s.filename}",
                "metadata": s.meta,
            }
        elif s.kind == "url":
            base |= {"url": s.url, "file_path": f"kb/{kb.id}/{s.id}"}
        else:
            base |= {"content": s.content or {}}
        return base

    return {
        "kb_id": kb.id,
        "kb_name": kb.name,
        "type": kb.kb_type,
        "status": kb.status,
        "failure_reason": kb.failure_reason,
        "created_at": kb.created_at,
        "updated_at": kb.updated_at,
        "files": [item(s) for s in sources if s.kind == "file"],
        "urls": [item(s) for s in sources if s.kind == "url"],
        "faqs": [item(s) for s in sources if s.kind == "faq"],
    }
