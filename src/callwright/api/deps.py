"""Request dependencies: the container, the caller's workspace, paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyHeader

from callwright.api.errors import RateLimited
from callwright.bootstrap import Container
from callwright.domain import api_keys
from callwright.services import workspaces

_api_key = APIKeyHeader(name="X-API-KEY", auto_error=False, description="Your workspace API key.")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_workspace_id(
    container: ContainerDep, key: Annotated[str | None, Security(_api_key)]
) -> str:
    """Authenticate the X-API-KEY header and spend one token of its rate limit."""
    workspace_id = await workspaces.authenticate(container.uow, key)
    assert key is not None
    wait_s = container.rate_limiter.take(api_keys.digest(key))
    if wait_s:
        raise RateLimited(wait_s)
    return workspace_id


WorkspaceId = Annotated[str, Depends(get_workspace_id)]


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


def get_page(
    limit: Annotated[int, Query(ge=1, le=100, description="Items to return (max 100).")] = 10,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="Items to skip.")] = 0,
) -> Page:
    return Page(limit, offset)


PageDep = Annotated[Page, Depends(get_page)]
