"""PATCH /agent/v1: one named operation per request (ringg-api.md §3.3)."""

from __future__ import annotations

from typing import Any

from callwright.db.unit_of_work import SessionFactory
from callwright.domain.errors import InvalidRequest
from callwright.services.agent_edits import resource_ops, settings_ops
from callwright.services.agent_edits.context import OPERATIONS, EditContext, pick_version
from callwright.services.agents import load, parse_settings, save

__all__ = ["OPERATIONS", "edit", "resource_ops", "settings_ops"]


async def edit(uow: SessionFactory, workspace_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Apply one operation; returns the response body."""
    name = body.get("operation")
    handler = OPERATIONS.get(name) if isinstance(name, str) else None
    if handler is None:
        raise InvalidRequest(f"Unsupported operation {name!r}")
    agent_id = body.get("agent_id")
    if not isinstance(agent_id, str) or not agent_id:
        raise InvalidRequest(f"'agent_id' is required for operation '{name}'")
    async with uow.begin() as session:
        view = await load(session, workspace_id, agent_id)
        version = pick_version(view, body.get("version_id"))
        ctx = EditContext(
            session, workspace_id, view, version, parse_settings(version.settings), body
        )
        extra = await handler(ctx)
        save(view.agent, ctx.version, ctx.settings)
    return {"message": "Agent updated successfully!", "agent_id": agent_id, **(extra or {})}
