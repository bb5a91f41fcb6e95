"""GET /workspace, /workspace/all, /workspace/users."""

from __future__ import annotations

from pydantic import BaseModel, Field

from callwright.api.schemas.common import iso
from callwright.db.models import User, Workspace


class WorkspaceInfo(BaseModel):
    id: str
    name: str
    created_at: str
    credits: float
    locked_credits: float

    @classmethod
    def of(cls, w: Workspace) -> WorkspaceInfo:
        return cls(
            id=w.id,
            name=w.name,
            created_at=iso(w.created_at),
            credits=w.credits,
            locked_credits=w.locked_credits,
        )


class WorkspaceResponse(BaseModel):
    workspace_info: WorkspaceInfo


class WorkspaceRow(WorkspaceInfo):
    role: str


class WorkspacesResponse(BaseModel):
    workspaces: list[WorkspaceRow]


class WorkspaceUser(BaseModel):
    id: str
    username: str
    email: str
    role: str
    invite_status: str

    @classmethod
    def of(cls, u: User) -> WorkspaceUser:
        return cls(
            id=u.id, username=u.username, email=u.email, role=u.role, invite_status=u.invite_status
        )


class WorkspaceUsersResponse(BaseModel):
    workspace_users: list[WorkspaceUser]


class AddCredits(BaseModel):
    amount: float = Field(gt=0, le=1_000_000_000, description="credits to add")


class CreditsResponse(BaseModel):
    message: str
    workspace_info: WorkspaceInfo
