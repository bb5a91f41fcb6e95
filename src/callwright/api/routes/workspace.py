"""Workspace: /workspace, /workspace/all, /workspace/users, and our /workspace/credits."""

from __future__ import annotations

from fastapi import APIRouter

from callwright.api.deps import ContainerDep, PageDep, WorkspaceId
from callwright.api.schemas.common import ERRORS
from callwright.api.schemas.workspace import (
    AddCredits,
    CreditsResponse,
    WorkspaceInfo,
    WorkspaceResponse,
    WorkspaceRow,
    WorkspacesResponse,
    WorkspaceUser,
    WorkspaceUsersResponse,
)
from callwright.services import workspaces

router = APIRouter(tags=["Workspace"], responses=ERRORS)


@router.get("/workspace", response_model=WorkspaceResponse, summary="Current workspace")
async def get_workspace(c: ContainerDep, workspace_id: WorkspaceId) -> WorkspaceResponse:
    workspace = await workspaces.get(c.uow, workspace_id)
    return WorkspaceResponse(workspace_info=WorkspaceInfo.of(workspace))


@router.get(
    "/workspace/all", response_model=WorkspacesResponse, summary="Workspaces you can access"
)
async def all_workspaces(c: ContainerDep, workspace_id: WorkspaceId) -> WorkspacesResponse:
    # A key belongs to exactly one workspace, so that is all it can reach.
    workspace = await workspaces.get(c.uow, workspace_id)
    row = WorkspaceRow(**WorkspaceInfo.of(workspace).model_dump(), role="owner")
    return WorkspacesResponse(workspaces=[row])


@router.get("/workspace/users", response_model=WorkspaceUsersResponse, summary="Workspace members")
async def workspace_users(
    c: ContainerDep, workspace_id: WorkspaceId, page: PageDep
) -> WorkspaceUsersResponse:
    users = await workspaces.users(c.uow, workspace_id, limit=page.limit, offset=page.offset)
    return WorkspaceUsersResponse(workspace_users=[WorkspaceUser.of(u) for u in users])


@router.post(
    "/workspace/credits",
    response_model=CreditsResponse,
    summary="Add credits (callwright)",
    description="Not in Ringg's API: tops up the workspace balance used by calls.",
)
async def add_credits(
    c: ContainerDep, workspace_id: WorkspaceId, body: AddCredits
) -> CreditsResponse:
    workspace = await workspaces.add_credits(c.uow, workspace_id, body.amount)
    return CreditsResponse(message="Credits added", workspace_info=WorkspaceInfo.of(workspace))
