"""PATCH /agent/v1: one named operation per request (ringg-api.md §3.3)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Agent, AgentVersion
from callwright.db.repositories import numbers as numbers_repo
from callwright.db.types import utcnow
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.assistant import (
    DEFAULT_WHITELISTED_DOMAIN,
    AgentConfig,
    CallConfig,
    EventSubscription,
    VersionSettings,
    deep_merge,
    replace_variables,
)
from callwright.domain.errors import Conflict, InvalidRequest, NotFound
from callwright.domain.ids import new_id
from callwright.services.agents import AgentView, check_voice, load, parse_settings, save

MAX_VERSIONS = 5
MAX_LABELS = 10


@dataclass
class EditContext:
    session: AsyncSession
    workspace_id: str
    view: AgentView
    version: AgentVersion
    settings: VersionSettings
    body: dict[str, Any]

    @property
    def agent(self) -> Agent:
        return self.view.agent

    def field(self, name: str) -> Any:
        if self.body.get(name) is None:
            raise InvalidRequest(f"'{name}' is required for operation '{self.body['operation']}'")
        return self.body[name]


Handler = Callable[[EditContext], Awaitable[dict[str, Any] | None]]
OPERATIONS: dict[str, Handler] = {}


def operation(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            OPERATIONS[name] = handler
        return handler

    return register


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
        version = _version(view, body.get("version_id"))
        ctx = EditContext(
            session, workspace_id, view, version, parse_settings(version.settings), body
        )
        extra = await handler(ctx)
        save(view.agent, ctx.version, ctx.settings)
    return {"message": "Agent updated successfully!", "agent_id": agent_id, **(extra or {})}


def _version(view: AgentView, version_id: Any) -> AgentVersion:
    if version_id is None:
        return view.active
    for version in view.versions:
        if version.id == version_id:
            return version
    raise NotFound("Version not found")


def _validated(model: Any, value: Any, what: str) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InvalidRequest(f"Invalid {what}: {where} {err['msg']}".strip()) from exc


def _set_agent_config(ctx: EditContext, **changes: Any) -> None:
    merged = {**ctx.settings.agent_config.model_dump(mode="json"), **changes}
    ctx.settings.agent_config = _validated(AgentConfig, merged, "agent config")


# --------------------------------------------------------------------------- identity and prompt


@operation("edit_agent_display_name")
async def _display_name(ctx: EditContext) -> None:
    name = ctx.field("agent_display_name")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 100:
        raise InvalidRequest("agent_display_name must be 1-100 characters")
    ctx.agent.display_name = name.strip()


@operation("edit_prompt")
async def _prompt(ctx: EditContext) -> None:
    _set_agent_config(ctx, agent_prompt=ctx.field("agent_prompt"))


@operation("edit_intro_message")
async def _intro(ctx: EditContext) -> None:
    intro = ctx.field("intro_message")
    if not isinstance(intro, str) or len(intro) > 5000:
        raise InvalidRequest("intro_message must be a string of at most 5000 characters")
    _set_agent_config(ctx, intro_message=intro)


@operation("edit_custom_vars")
async def _custom_vars(ctx: EditContext) -> None:
    names = ctx.field("custom_variables")
    if not isinstance(names, list):
        raise InvalidRequest("custom_variables must be a list of names")
    current = ctx.settings.agent_config.custom_variables
    _set_agent_config(ctx, custom_variables=replace_variables(ctx.agent.agent_type, current, names))


# --------------------------------------------------------------------------- language and voice


def _set_settings(ctx: EditContext, **changes: Any) -> None:
    merged = {**ctx.settings.model_dump(mode="json"), **changes}
    ctx.settings = _validated(VersionSettings, merged, "settings")


@operation("edit_language")
async def _language(ctx: EditContext) -> None:
    language = ctx.field("language")
    _set_settings(ctx, language=language)
    if ctx.settings.voice_id:
        try:
            check_voice(ctx.settings.voice_id, ctx.settings.language)
        except InvalidRequest as exc:
            raise InvalidRequest("Selected voice does not support the specified language") from exc


@operation("edit_voice")
async def _voice(ctx: EditContext) -> None:
    voice_id = ctx.field("voice_id")
    language = ctx.body.get("language") or ctx.settings.language
    try:
        voice = check_voice(str(voice_id), str(language))
    except InvalidRequest as exc:
        if exc.code == "VOICE_NOT_FOUND":
            raise
        raise InvalidRequest("Selected voice does not support the specified language") from exc
    changes: dict[str, Any] = {"voice_id": voice.id, "language": language}
    for key in ("secondary_language", "secondary_voice_id", "additional_languages"):
        if key in ctx.body:
            changes[key] = ctx.body[key]
    _set_settings(ctx, **changes)


@operation("edit_secondary_language")
async def _secondary_language(ctx: EditContext) -> None:
    _set_settings(ctx, secondary_language=ctx.field("secondary_language"))


@operation("edit_secondary_voice")
async def _secondary_voice(ctx: EditContext) -> None:
    _set_settings(ctx, secondary_voice_id=ctx.field("secondary_voice_id"))


@operation("edit_voice_speed")
async def _voice_speed(ctx: EditContext) -> None:
    _set_agent_config(ctx, voice_speed=ctx.field("voice_speed"))


# --------------------------------------------------------------------------- conversation settings


def _agent_config_op(op: str, *keys: str, required: str | None = None) -> None:
    async def handler(ctx: EditContext) -> None:
        if required is not None:
            ctx.field(required)
        _set_agent_config(ctx, **{k: ctx.body[k] for k in keys if k in ctx.body})

    OPERATIONS[op] = handler


_agent_config_op("edit_vocab", "vocab", required="vocab")
_agent_config_op(
    "edit_query_phrases",
    "pre_query_response_phrases",
    "pre_query_phrase_probability",
    required="pre_query_response_phrases",
)
_agent_config_op(
    "edit_noise_settings", "mute_while_bot_speaking", "mute_during_intro", "noise_settings"
)
_agent_config_op("edit_dtmf_settings", "dtmf_settings", required="dtmf_settings")
_agent_config_op("edit_vad_settings", "vad_settings", "interruption_sensitivity")
_agent_config_op("edit_extract_callee_name", "extract_callee_name")


@operation("edit_llm")
async def _llm(ctx: EditContext) -> None:
    """Ours: choose the assistant's LLM provider and model ({"llm": {"provider", "model"}})."""
    llm = ctx.field("llm")
    _set_agent_config(ctx, llm={**ctx.settings.agent_config.llm.model_dump(), **llm})


@operation("edit_llm_temperature")
async def _llm_temperature(ctx: EditContext) -> None:
    llm = ctx.settings.agent_config.llm.model_dump()
    _set_agent_config(ctx, llm={**llm, "temperature": ctx.field("llm_temperature")})


@operation("edit_agent_whitelisted_domains")
async def _domains(ctx: EditContext) -> None:
    domains = ctx.field("whitelisted_domains")
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise InvalidRequest("whitelisted_domains must be a list of origins")
    if DEFAULT_WHITELISTED_DOMAIN not in domains:
        domains = [DEFAULT_WHITELISTED_DOMAIN, *domains]
    _set_settings(ctx, whitelisted_domains=list(dict.fromkeys(domains)))


@operation("edit_call_config")
async def _call_config(ctx: EditContext) -> None:
    patch = ctx.field("call_config")
    if not isinstance(patch, dict):
        raise InvalidRequest("call_config must be an object")
    merged = deep_merge(ctx.settings.call_config.model_dump(mode="json"), patch)
    ctx.settings.call_config = _validated(CallConfig, merged, "call_config")


@operation("edit_timezone")
async def _timezone(ctx: EditContext) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    tz = ctx.field("timezone")
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest(f"Unknown time zone {tz!r}") from exc
    _set_settings(ctx, timezone=tz)


@operation("edit_api_settings")
async def _api_settings(ctx: EditContext) -> None:
    settings = {
        k: v for k, v in ctx.body.items() if k not in ("operation", "agent_id", "version_id")
    }
    _set_settings(ctx, api_settings=settings)


@operation("edit_outbound_from_number_ids", "edit_voicemail_settings", "edit_demo_settings")
async def _accepted_no_op(ctx: EditContext) -> None:
    """Accepted and ignored, as Ringg does (ringg-api.md §3.3)."""


# --------------------------------------------------------------------------- webhooks and analysis


@operation("edit_event_subscriptions")
async def _event_subscriptions(ctx: EditContext) -> None:
    subs = ctx.body.get("event_subscriptions")
    if not isinstance(subs, list):
        raise InvalidRequest(
            "'event_subscriptions' is required for operation 'edit_event_subscriptions'"
        )
    parsed = [_validated(EventSubscription, s, "event subscription") for s in subs]
    from callwright.domain.assistant import EVENT_TYPES

    for sub in parsed:
        unknown = [e for e in sub.event_type if e not in EVENT_TYPES]
        if unknown or not sub.event_type:
            raise InvalidRequest(
                f"Unknown event_type {unknown or sub.event_type}; use {list(EVENT_TYPES)}"
            )
        if not sub.callback_url.startswith(("http://", "https://")):
            raise InvalidRequest("callback_url must be an http(s) URL")
    ctx.settings.event_subscriptions = parsed


@operation("edit_custom_analysis_prompt")
async def _custom_analysis(ctx: EditContext) -> None:
    value = ctx.body.get("custom_analysis_prompt")
    if value is not None and not isinstance(value, dict):
        raise InvalidRequest("custom_analysis_prompt must be an object or null")
    ctx.settings.custom_analysis_prompt = value or None


@operation("edit_client_analysis")
async def _client_analysis(ctx: EditContext) -> None:
    value = ctx.body.get("client_analysis")
    if value is not None and not isinstance(value, dict):
        raise InvalidRequest("client_analysis must be an object or null")
    ctx.settings.client_analysis = (
        {**(ctx.settings.client_analysis or {}), **value} if value else None
    )


@operation("edit_classification_labels")
async def _labels(ctx: EditContext) -> None:
    labels = ctx.field("classification_labels")
    if not isinstance(labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in labels.items()
    ):
        raise InvalidRequest("classification_labels must map label names to descriptions")
    if len(labels) > MAX_LABELS:
        raise InvalidRequest(f"At most {MAX_LABELS} classification labels")
    ctx.agent.classification_labels = labels


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
    # Knowledge bases arrive with their own resource; until one exists no id can match.
    raise NotFound("Knowledge base not found")


# --------------------------------------------------------------------------- versions


@operation("add_new_ab_version")
async def _new_version(ctx: EditContext) -> dict[str, Any]:
    versions = ctx.view.versions
    if len(versions) >= MAX_VERSIONS:
        raise InvalidRequest(f"At most {MAX_VERSIONS} versions per agent")
    base = _version(ctx.view, ctx.body.get("base_version_id"))
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
    target = _version(ctx.view, ctx.field("prod_version_id"))
    ctx.agent.active_version_id = target.id
    for version in ctx.view.versions:
        version.call_traffic = 100 if version.id == target.id else 0


@operation("delete_version")
async def _delete_version(ctx: EditContext) -> None:
    target = _version(ctx.view, ctx.field("version_id"))
    if target.id == ctx.agent.active_version_id:
        raise InvalidRequest("Cannot delete the active version; push another version to prod first")
    await ctx.session.delete(target)
    # The edit is saved on the active version, not on the deleted one.
    ctx.version = ctx.view.active
    ctx.settings = parse_settings(ctx.version.settings)
