"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from callwright import __version__
from callwright.api import errors
from callwright.api.routes import (
    agents,
    analytics,
    calls,
    campaigns,
    contact_lists,
    do_not_call,
    kb,
    numbers,
    twilio,
    web,
    webcall,
    webhooks,
    workspace,
)
from callwright.bootstrap import Overrides, container
from callwright.media.runtime import tune_gc_for_media
from callwright.settings import Settings

PREFIX = "/ca/api/v0"


def create_app(
    settings: Settings,
    *,
    migrate: bool = True,
    overrides: Overrides | None = None,
    freeze_heap: bool = False,
) -> FastAPI:
    """``freeze_heap``: once started, move the heap into the collector's permanent generation
    (for a server process; an app torn down in a long-lived process would leak it)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with container(settings, migrate=migrate, overrides=overrides) as c:
            app.state.container = c
            if freeze_heap:
                # Start-up (models, providers, the job engine) builds most of what lives
                # for good: full collections walking it paused requests ~100 ms.
                tune_gc_for_media()
            yield

    app = FastAPI(
        title="callwright",
        version=__version__,
        description="Self-hostable voice-AI agents with a Ringg-compatible REST API.",
        lifespan=lifespan,
    )
    errors.install(app)
    api = APIRouter(prefix=PREFIX)
    for module in (
        workspace,
        numbers,
        agents,
        calls,
        campaigns,
        contact_lists,
        do_not_call,
        webhooks,
        twilio,
        kb,
        analytics,
    ):
        api.include_router(module.router)
    api.include_router(webcall.router)  # WS /webcall/ws, POST /webcall/agents/{id}/public-key
    api.include_router(web.keys)  # /workspace/api-keys, for the dashboard's keys page
    app.include_router(api)
    app.include_router(web.pages)  # / -> /dashboard/, /dashboard/static/*, /widget.js

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
