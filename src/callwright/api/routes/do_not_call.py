"""The workspace's do-not-call list (ours; Ringg has none)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile

from callwright.api.deps import ContainerDep, PageDep, WorkspaceId
from callwright.api.schemas.campaigns import (
    DncAdded,
    DncCheck,
    DncEntryOut,
    DncImported,
    DncList,
    DncNumbers,
    Pagination,
    RowErrorOut,
)
from callwright.api.schemas.common import ERRORS, Message, iso
from callwright.domain.errors import InvalidRequest
from callwright.services import do_not_call

router = APIRouter(prefix="/do-not-call", tags=["Do not call"], responses=ERRORS)
MAX_IMPORT_BYTES = 2 * 1024 * 1024


@router.get("", response_model=DncList, summary="Numbers never to call")
async def listed(c: ContainerDep, workspace_id: WorkspaceId, page: PageDep) -> Any:
    rows, total = await do_not_call.page(c.uow, workspace_id, limit=page.limit, offset=page.offset)
    return DncList(
        numbers=[
            DncEntryOut(number=r.number, reason=r.reason, created_at=iso(r.created_at))
            for r in rows
        ],
        pagination=Pagination(total=total, limit=page.limit, offset=page.offset),
    )


@router.post("", response_model=DncAdded, summary="Add numbers")
async def add(c: ContainerDep, workspace_id: WorkspaceId, body: DncNumbers) -> Any:
    return DncAdded(added=await do_not_call.add(c.uow, workspace_id, body.numbers, body.reason))


@router.post("/import", response_model=DncImported, summary="Add numbers from a CSV or text file")
async def bulk_import(
    c: ContainerDep,
    workspace_id: WorkspaceId,
    file: Annotated[
        UploadFile, File(description="one number per line, or a CSV whose first column holds them")
    ],
    reason: Annotated[str, Form(max_length=200)] = "",
    country_code: Annotated[
        str | None,
        Form(max_length=8, description="reads national numbers, e.g. '+91' or 'IN'"),
    ] = None,
) -> Any:
    """Adds every readable number; rows that are not phone numbers come back in
    ``invalid_rows``. A file with no readable number at all is a 400 and adds nothing."""
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidRequest(f"The file is larger than {MAX_IMPORT_BYTES // 1024 // 1024} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidRequest("The file is not UTF-8 text") from exc
    read = do_not_call.read_file(text, country_code=country_code or None)
    if not read.numbers:
        why = "".join(f": row {r.row_number}, {r.reason}" for r in read.rejected[:1])
        raise InvalidRequest("The file holds no phone number" + why)
    return DncImported(
        added=await do_not_call.add(c.uow, workspace_id, read.numbers, reason),
        invalid_rows=[RowErrorOut(row_number=r.row_number, reason=r.reason) for r in read.rejected],
    )


@router.post("/check", response_model=DncCheck, summary="Which of these numbers are listed")
async def check(c: ContainerDep, workspace_id: WorkspaceId, body: DncNumbers) -> Any:
    return DncCheck(numbers=await do_not_call.check(c.uow, workspace_id, body.numbers))


@router.delete("/{number}", response_model=Message, summary="Remove a number")
async def remove(c: ContainerDep, workspace_id: WorkspaceId, number: str) -> Any:
    await do_not_call.remove(c.uow, workspace_id, number)
    return Message(message="Number removed from the do-not-call list")
