"""Operations that edit an agent's settings: identity, prompt, voice, call rules, webhooks,
analysis."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callwright.domain.assistant import (
    DEFAULT_WHITELISTED_DOMAIN,
    EVENT_TYPES,
    CallConfig,
    EventSubscription,
    deep_merge,
    replace_variables,
)
from callwright.domain.errors import InvalidRequest
from callwright.services.agent_edits.context import (
    MAX_LABELS,
    OPERATIONS,
    EditContext,
    operation,
    set_agent_config,
    set_settings,
    validated,
)
from callwright.services.agents import check_voice

# --------------------------------------------------------------------------- identity and prompt


@operation("edit_agent_display_name")
async def _display_name(ctx: EditContext) -> None:
    name = ctx.field("agent_display_name")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 100:
        raise InvalidRequest("agent_display_name must be 1-100 characters")
    ctx.agent.display_name = name.strip()


@operation("edit_prompt")
async def _prompt(ctx: EditContext) -> None:
    set_agent_config(ctx, agent_prompt=ctx.field("agent_prompt"))


@operation("edit_intro_message")
async def _intro(ctx: EditContext) -> None:
    intro = ctx.field("intro_message")
    if not isinstance(intro, str) or len(intro) > 5000:
        raise InvalidRequest("intro_message must be a string of at most 5000 characters")
    set_agent_config(ctx, intro_message=intro)


@operation("edit_custom_vars")
async def _custom_vars(ctx: EditContext) -> None:
    names = ctx.field("custom_variables")
    if not isinstance(names, list):
        raise InvalidRequest("custom_variables must be a list of names")
    current = ctx.settings.agent_config.custom_variables
    set_agent_config(ctx, custom_variables=replace_variables(ctx.agent.agent_type, current, names))


# --------------------------------------------------------------------------- language and voice


@operation("edit_language")
async def _language(ctx: EditContext) -> None:
    language = ctx.field("language")
    set_settings(ctx, language=language)
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
    set_settings(ctx, **changes)


@operation("edit_secondary_language")
async def _secondary_language(ctx: EditContext) -> None:
    set_settings(ctx, secondary_language=ctx.field("secondary_language"))


@operation("edit_secondary_voice")
async def _secondary_voice(ctx: EditContext) -> None:
    set_settings(ctx, secondary_voice_id=ctx.field("secondary_voice_id"))


@operation("edit_voice_speed")
async def _voice_speed(ctx: EditContext) -> None:
    set_agent_config(ctx, voice_speed=ctx.field("voice_speed"))


# --------------------------------------------------------------------------- conversation settings


def _agent_config_op(op: str, *keys: str, required: str | None = None) -> None:
    async def handler(ctx: EditContext) -> None:
        if required is not None:
            ctx.field(required)
        set_agent_config(ctx, **{k: ctx.body[k] for k in keys if k in ctx.body})

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
    set_agent_config(ctx, llm={**ctx.settings.agent_config.llm.model_dump(), **llm})


@operation("edit_llm_temperature")
async def _llm_temperature(ctx: EditContext) -> None:
    llm = ctx.settings.agent_config.llm.model_dump()
    set_agent_config(ctx, llm={**llm, "temperature": ctx.field("llm_temperature")})


@operation("edit_agent_whitelisted_domains")
async def _domains(ctx: EditContext) -> None:
    domains = ctx.field("whitelisted_domains")
    if not isinstance(domains, list) or not all(isinstance(d, str) for d in domains):
        raise InvalidRequest("whitelisted_domains must be a list of origins")
    if DEFAULT_WHITELISTED_DOMAIN not in domains:
        domains = [DEFAULT_WHITELISTED_DOMAIN, *domains]
    set_settings(ctx, whitelisted_domains=list(dict.fromkeys(domains)))


@operation("edit_call_config")
async def _call_config(ctx: EditContext) -> None:
    patch = ctx.field("call_config")
    if not isinstance(patch, dict):
        raise InvalidRequest("call_config must be an object")
    merged = deep_merge(ctx.settings.call_config.model_dump(mode="json"), patch)
    ctx.settings.call_config = validated(CallConfig, merged, "call_config")


@operation("edit_timezone")
async def _timezone(ctx: EditContext) -> None:
    tz = ctx.field("timezone")
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest(f"Unknown time zone {tz!r}") from exc
    set_settings(ctx, timezone=tz)


@operation("edit_api_settings")
async def _api_settings(ctx: EditContext) -> None:
    settings = {
        k: v for k, v in ctx.body.items() if k not in ("operation", "agent_id", "version_id")
    }
    set_settings(ctx, api_settings=settings)


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
    parsed = [validated(EventSubscription, s, "event subscription") for s in subs]
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
