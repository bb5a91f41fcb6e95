"""Contact lists (ringg-api.md §2.7, legacy paths): a list is what a campaign calls, and a
saved list can start new campaigns (POST /campaign/from-list)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form

from callwright.api.deps import ContainerDep, PageDep, WorkspaceId
from callwright.api.routes.campaigns import CsvFile, FormText, saved_response
from callwright.api.schemas.campaigns import (
    ContactListOut,
    ContactLists,
    Pagination,
    SavedResponse,
)
from callwright.api.schemas.common import ERRORS, Message
from callwright.db.repositories import contacts as contacts_repo
from callwright.services import contact_lists as saved_lists
from callwright.services.campaign_upload import CampaignForm

router = APIRouter(tags=["Contact lists"], responses=ERRORS)


@router.post("/calling/contact/list", response_model=SavedResponse)
async def upload_contact_list(
    c: ContainerDep,
    workspace_id: WorkspaceId,
    file: CsvFile,
    variables_map: FormText,
    agent_id: Annotated[str, Form(max_length=36)],
    country_code: Annotated[str, Form(max_length=8)],
    call_config: FormText = "{}",
    list_name: Annotated[str, Form(max_length=200)] = "Contact list",
    remove_invalid_rows: Annotated[bool, Form()] = False,
) -> Any:
    form = CampaignForm(
        agent_id=agent_id,
        campaign_name=list_name,
        country_code=country_code,
        variables_map=variables_map,
        call_config=call_config,
        remove_invalid_rows=remove_invalid_rows,
    )
    return await saved_response(c, workspace_id, file, form)


@router.get("/workspace/lists", response_model=ContactLists)
async def contact_lists(c: ContainerDep, workspace_id: WorkspaceId, page: PageDep) -> Any:
    async with c.uow() as session:
        rows = await contacts_repo.lists_page(
            session, workspace_id, limit=page.limit, offset=page.offset
        )
        total = await contacts_repo.count_lists(session, workspace_id)
    return ContactLists(
        lists=[
            ContactListOut(
                id=r.id,
                name=r.name,
                status=r.status,
                agent_id=r.agent_id,
                total_rows=r.total_rows,
                successful_rows=r.successful_rows,
                failed_rows=r.failed_rows,
                created_at=r.created_at.isoformat(timespec="microseconds"),
            )
            for r in rows
        ],
        pagination=Pagination(total=total, limit=page.limit, offset=page.offset),
    )


@router.delete("/calling/contact/{list_id}", response_model=Message)
async def delete_contact_list(c: ContainerDep, workspace_id: WorkspaceId, list_id: str) -> Any:
    """409 while a campaign made from the list has not started: it reads the list then."""
    await saved_lists.delete(c.uow, workspace_id, list_id)
    return Message(message="Bulk list deleted successfully!")
