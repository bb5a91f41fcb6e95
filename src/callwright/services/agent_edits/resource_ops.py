"""Operations that attach things to an agent (numbers, knowledge bases) or manage its
versions."""

from __future__ import annotations

from typing import Any

from callwright.db.models import AgentVersion
from callwright.db.repositories import knowledge as kb_repo
from callwright.db.repositories import numbers as numbers_repo
from callwright.db.types import utcnow
from callwright.domain.errors import Conflict, InvalidRequest, NotFound
from callwright.domain.ids import new_id
from callwright.services.agent_edits.context import (
    MAX_VERSIONS,
    EditContext,
    operation,
    pick_version,
)
from callwright.services.agents import parse_settings

# --------------------------------------------------------------------------- numbers and KBs


@operation("attach_inbound_number", "remove_inbound_number")
async def _inbound_number(ctx: EditContext) -> None:
    number_id = ctx.field("number_id")
    if ctx.agent.agent_type not in ("inbound", "outbound_inbound"):
        raise InvalidRequest("Only inbound or outbound_inbound agents take inbound numbers")
    number = await numbers_repo.get(ctx.session, ctx.workspace_id, str(number_id))
    if number is None:
        raise NotFound("Number not found")
    if ctx.body["operation"] == "attach_inbound_number":
        if number.inbound_agent_id not in (None, ctx.agent.id):
            raise Conflict("Number is already assigned to another agent")
        number.inbound_agent_id, number.is_inbound_enabled = ctx.agent.id, True
    elif number.inbound_agent_id == ctx.agent.id:
        number.inbound_agent_id, number.is_inbound_enabled = None, False


@operation("attach_kb", "remove_kb")
async def _kb(ctx: EditContext) -> dict[str, Any]:
    kb_id = str(ctx.field("kb_id"))
    attached = [kb for kb in ctx.settings.knowledge_bases if kb.get("knowledge_base_id") == kb_id]
    if ctx.body["operation"] == "remove_kb":
        if not attached:
            raise NotFound("Knowledge base not attached to this agent")
        ctx.settings.knowledge_bases = [
            kb for kb in ctx.settings.knowledge_bases if kb.get("knowledge_base_id") != kb_id
        ]
        return {"message": "Knowledge Base removed successfully", "kb_id": kb_id}
    kb = await kb_repo.get(ctx.session, ctx.workspace_id, kb_id)
    if kb is None:
        raise NotFound("Knowledge Base not found")
    if attached:
        raise InvalidRequest("Knowledge Base already attached")
    ctx.settings.knowledge_bases = [
        *ctx.settings.knowledge_bases,
        {"knowledge_base_id": kb.id, "knowledge_base_name": kb.name},
    ]
    return {"message": "Knowledge Base attached successfully", "kb_id": kb_id}


# --------------------------------------------------------------------------- versions


@operation("add_new_ab_version")
async def _new_version(ctx: EditContext) -> dict[str, Any]:
    versions = ctx.view.versions
    if len(versions) >= MAX_VERSIONS:
        raise InvalidRequest(f"At most {MAX_VERSIONS} versions per agent")
    base = pick_version(ctx.view, ctx.body.get("base_version_id"))
    slug = f"v{max(int(v.slug[1:]) for v in versions if v.slug[1:].isdigit()) + 1}"
    now = utcnow()
    new = AgentVersion(
        id=new_id(),
        agent_id=ctx.agent.id,
        workspace_id=ctx.workspace_id,
        slug=slug,
        description=str(ctx.body.get("description") or ""),
        call_traffic=0,
        settings=dict(base.settings),
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(new)
    return {"version_id": new.id, "version_slug": slug}


@operation("edit_version_description")
async def _version_description(ctx: EditContext) -> None:
    ctx.field("version_id")
    ctx.version.description = str(ctx.field("description"))


@operation("push_to_prod")
async def _push_to_prod(ctx: EditContext) -> None:
    target = pick_version(ctx.view, ctx.field("prod_version_id"))
    ctx.agent.active_version_id = target.id
    for version in ctx.view.versions:
        version.call_traffic = 100 if version.id == target.id else 0


@operation("delete_version")
async def _delete_version(ctx: EditContext) -> None:
    target = pick_version(ctx.view, ctx.field("version_id"))
    if target.id == ctx.agent.active_version_id:
        raise InvalidRequest("Cannot delete the active version; push another version to prod first")
    await ctx.session.delete(target)
    # The edit is saved on the active version, not on the deleted one.
    ctx.version = ctx.view.active
    ctx.settings = parse_settings(ctx.version.settings)
