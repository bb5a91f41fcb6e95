"""The dashboard and the embeddable widget, served by callwright itself, plus the API-key
endpoints the dashboard's keys page uses.

The dashboard is static: plain HTML, ES modules and CSS under ``callwright/web/static``,
no build step. It signs in with an API key (kept in the tab's sessionStorage) and talks
to the same ``/ca/api/v0`` API as any client. Pages:

- ``/`` redirects to ``/dashboard/``;
- ``/dashboard/`` the app, ``/dashboard/static/<file>`` its modules and styles;
- ``/widget.js`` the embeddable widget (one script tag, see ``web/static/widget.js``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response

from callwright.api.deps import ContainerDep, WorkspaceId
from callwright.api.schemas.common import ERRORS, Message
from callwright.api.schemas.web import ApiKeyCreated, ApiKeyList, ApiKeyOut, NewApiKey
from callwright.db.repositories import workspaces as workspaces_repo
from callwright.domain.errors import Forbidden, NotFound
from callwright.services import workspaces

STATIC_DIR = Path(str(resources.files("callwright.web") / "static"))
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
# The dashboard loads only its own files and talks only to its own server.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self' ws: wss:; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

pages = APIRouter(include_in_schema=False)


@pages.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/dashboard/", status_code=307)


@pages.get("/dashboard")
async def dashboard_no_slash() -> RedirectResponse:
    return RedirectResponse("/dashboard/", status_code=307)


@pages.get("/dashboard/")
async def dashboard() -> Response:
    return _file(
        "index.html", headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-cache"}
    )


@pages.get("/dashboard/static/{path:path}")
async def static(path: str) -> Response:
    # Public code, loaded cross-origin by the widget (module scripts and audio worklets
    # are fetched in CORS mode), so every page may read it.
    return _file(path, headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-cache"})


@pages.get("/widget.js")
async def widget() -> Response:
    return _file(
        "widget.js",
        headers={
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Cache-Control": "public, max-age=300",
        },
    )


def _file(relative: str, *, headers: dict[str, str]) -> Response:
    path = (STATIC_DIR / relative).resolve()
    if not path.is_relative_to(STATIC_DIR.resolve()) or not path.is_file():
        return Response("Not Found", status_code=404, media_type="text/plain")
    media_type = _TYPES.get(path.suffix, "application/octet-stream")
    return FileResponse(
        path, media_type=media_type, headers={"X-Content-Type-Options": "nosniff", **headers}
    )


# --------------------------------------------------------------------------- API keys

keys = APIRouter(prefix="/workspace/api-keys", tags=["Workspace"], responses=ERRORS)


@keys.get("", response_model=ApiKeyList, summary="This workspace's API keys (callwright)")
async def list_keys(c: ContainerDep, workspace_id: WorkspaceId) -> ApiKeyList:
    async with c.uow() as session:
        rows = await workspaces_repo.keys(session, workspace_id)
    return ApiKeyList(api_keys=[ApiKeyOut.of(r) for r in rows])


@keys.post("", response_model=ApiKeyCreated, summary="Create an API key (callwright)")
async def create_key(c: ContainerDep, workspace_id: WorkspaceId, body: NewApiKey) -> ApiKeyCreated:
    row, key = await workspaces.create_key(c.uow, workspace_id, body.name)
    return ApiKeyCreated(
        message="API key created. It is shown only now.", api_key=key, key=ApiKeyOut.of(row)
    )


@keys.delete("/{key_id}", response_model=Message, summary="Revoke an API key (callwright)")
async def revoke_key(c: ContainerDep, workspace_id: WorkspaceId, key_id: str) -> Message:
    async with c.uow.begin() as session:
        row = await workspaces_repo.key(session, key_id)
        if row is None or row.workspace_id != workspace_id:
            raise NotFound("API key not found")
        live = [k for k in await workspaces_repo.keys(session, workspace_id) if not k.revoked_at]
        if row.revoked_at is None and len(live) == 1:
            raise Forbidden("This is the workspace's last live key; create another first")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
    return Message(message="API key revoked")
