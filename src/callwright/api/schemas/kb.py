"""Knowledge bases (ringg-api.md §2.9). Fields beyond the reference are additive:
``status`` in the list, per-item ``processing_status`` / ``error`` / ``chunks``, and the
knowledge base's ``failure_reason``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from callwright.api.schemas.common import iso


class KBCreated(BaseModel):
    message: str = "Knowledge Base creation initiated"
    kb_id: str
    processing_status: str = "pending"
    files_queued: int


class KBNewFile(BaseModel):
    filename: str | None
    file_id: str
    processing_status: str = "pending"


class KBNewUrl(BaseModel):
    url: str | None
    file_id: str


class KBNewFaq(BaseModel):
    file_id: str
    content: dict[str, Any] | None


class KBEdited(BaseModel):
    message: str = "Knowledge Base edit initiated"
    kb_id: str
    items_removed: int
    new_files_queued: int
    new_files: list[KBNewFile]
    new_urls: list[KBNewUrl] = Field(default_factory=list)
    new_faqs: list[KBNewFaq] = Field(default_factory=list)


class _Item(BaseModel):
    file_id: str
    file_type: str
    file_size: float
    processing_status: str = Field(description="pending | processing | completed | failed")
    error: str | None = Field(description="Why processing failed, when it did")
    chunks: int = Field(description="Searchable passages made from this item")


class KBFile(_Item):
    filename: str | None
    file_path: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class KBUrl(_Item):
    url: str | None
    file_path: str


class KBFaq(_Item):
    content: dict[str, Any]


class KBDetail(BaseModel):
    kb_id: str
    kb_name: str
    type: str
    status: str = Field(description="pending | processing | completed | failed")
    failure_reason: str | None = Field(description="Which items failed and why")
    created_at: str
    updated_at: str
    files: list[KBFile]
    urls: list[KBUrl]
    faqs: list[KBFaq]

    @classmethod
    def of(cls, view: dict[str, Any]) -> KBDetail:
        return cls.model_validate(
            view | {"created_at": iso(view["created_at"]), "updated_at": iso(view["updated_at"])}
        )


class KBRow(BaseModel):
    kb_id: str
    kb_name: str
    type: str
    created_at: str
    status: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> KBRow:
        return cls.model_validate(row | {"created_at": iso(row["created_at"])})


class KBDeleted(BaseModel):
    message: str = "Knowledge Base deleted successfully"
    kb_id: str
