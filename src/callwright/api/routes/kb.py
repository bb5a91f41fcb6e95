"""Knowledge bases: /external/kb (ringg-api.md §2.9), with Ringg's per-workspace limits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from callwright.api.deps import ContainerDep, WorkspaceId
from callwright.api.errors import RateLimited
from callwright.api.schemas.common import ERRORS
from callwright.api.schemas.kb import KBCreated, KBDeleted, KBDetail, KBEdited, KBRow
from callwright.bootstrap import Container
from callwright.domain.errors import InvalidRequest
from callwright.services.knowledge import KnowledgeBases, UploadedFile

router = APIRouter(tags=["Knowledge bases"], responses=ERRORS)

_JSON_ARRAY = "A JSON array, sent as a string"


def _service(c: Container, workspace_id: str, action: str) -> KnowledgeBases:
    kb: KnowledgeBases = c.knowledge
    wait_s = kb.limiter.take(workspace_id, action)
    if wait_s:
        raise RateLimited(wait_s)
    return kb


async def _read(kb: KnowledgeBases, uploads: list[UploadFile]) -> list[UploadedFile]:
    """The uploads' bytes, refusing an oversized part before reading it all."""
    limit = kb.limits.max_file_bytes
    if len(uploads) > kb.limits.max_files:
        raise InvalidRequest(f"At most {kb.limits.max_files} files per knowledge base")
    out: list[UploadedFile] = []
    for upload in uploads:
        name = upload.filename or ""
        if upload.size is not None and upload.size > limit:
            raise InvalidRequest(
                f"File too large: {name} is {upload.size / (1024 * 1024):.1f} MB "
                f"(max {limit // (1024 * 1024)} MB per file)"
            )
        data = await upload.read(limit + 1)
        out.append(UploadedFile(filename=name, data=data))
    return out


@router.post(
    "/external/kb", response_model=KBCreated, summary="Create a knowledge base (asynchronous)"
)
async def create_kb(
    c: ContainerDep,
    workspace_id: WorkspaceId,
    kb_name: Annotated[str, Form(max_length=200, description="Name of the knowledge base")],
    files: Annotated[list[UploadFile], File(description="PDF, DOCX, TXT or Markdown")] = [],  # noqa: B006
    urls: Annotated[str | None, Form(description=_JSON_ARRAY + " of URLs (max 20)")] = None,
    faqs: Annotated[
        str | None, Form(description=_JSON_ARRAY + ' of {"question", "answer"}')
    ] = None,
) -> KBCreated:
    kb = _service(c, workspace_id, "create")
    uploads = await _read(kb, files)
    body = await kb.create(
        workspace_id, name=kb_name, files=uploads, urls_json=urls, faqs_json=faqs
    )
    return KBCreated.model_validate(body)


@router.patch("/external/kb", response_model=KBEdited, summary="Edit a knowledge base")
async def edit_kb(
    c: ContainerDep,
    workspace_id: WorkspaceId,
    kb_id: Annotated[str, Form(max_length=64)],
    files_to_remove: Annotated[str | None, Form(description=_JSON_ARRAY + " of file ids")] = None,
    urls_to_remove: Annotated[str | None, Form(description=_JSON_ARRAY + " of URLs")] = None,
    faqs_to_remove: Annotated[str | None, Form(description=_JSON_ARRAY + " of FAQ ids")] = None,
    new_files: Annotated[list[UploadFile], File()] = [],  # noqa: B006
    new_files_brackets: Annotated[
        list[UploadFile], File(alias="new_files[]", description="Same as new_files")
    ] = [],  # noqa: B006
    new_urls: Annotated[str | None, Form(description=_JSON_ARRAY + " of URLs")] = None,
    new_faqs: Annotated[str | None, Form(description=_JSON_ARRAY + " of FAQs")] = None,
    new_files_metadata: Annotated[
        str | None, Form(description="A JSON object (string): file name -> metadata")
    ] = None,
) -> KBEdited:
    kb = _service(c, workspace_id, "edit")
    uploads = await _read(kb, [*new_files, *new_files_brackets])
    body = await kb.edit(
        workspace_id,
        kb_id=kb_id,
        files_to_remove=files_to_remove,
        urls_to_remove=urls_to_remove,
        faqs_to_remove=faqs_to_remove,
        new_files=uploads,
        new_urls=new_urls,
        new_faqs=new_faqs,
        new_files_metadata=new_files_metadata,
    )
    return KBEdited.model_validate(body)


@router.get("/external/kb/all", response_model=list[KBRow], summary="List knowledge bases")
async def list_kbs(c: ContainerDep, workspace_id: WorkspaceId) -> list[KBRow]:
    kb = _service(c, workspace_id, "list")
    return [KBRow.of(row) for row in await kb.all(workspace_id)]


@router.get("/external/kb/{kb_id}", response_model=KBDetail, summary="Get a knowledge base")
async def get_kb(c: ContainerDep, workspace_id: WorkspaceId, kb_id: str) -> KBDetail:
    kb = _service(c, workspace_id, "get")
    return KBDetail.of(await kb.get(workspace_id, kb_id))


@router.delete("/external/kb/{kb_id}", response_model=KBDeleted, summary="Delete a knowledge base")
async def delete_kb(c: ContainerDep, workspace_id: WorkspaceId, kb_id: str) -> KBDeleted:
    kb = _service(c, workspace_id, "delete")
    return KBDeleted.model_validate(await kb.delete(workspace_id, kb_id))
