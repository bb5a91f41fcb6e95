"""Assistant bodies: /agent/*, /public/agent and PATCH /agent/v1."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from callwright.api.schemas.common import iso
from callwright.domain import voices
from callwright.domain.assistant import (
    VersionSettings,
    intro_to_text,
    prompt_text,
)
from callwright.services.agents import AgentView

PublicLanguage = Literal[
    "en-US", "en-IN", "hi-IN", "ta-IN", "te-IN", "bn-IN", "mr-IN", "kn-IN", "ka-IN"
]  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PublicAgentCreate(_Strict):
    agent_name: str = Field(min_length=1, max_length=100)
    introduction_and_objective: str = Field(min_length=1, max_length=2000)
    response_guidelines: str = Field(min_length=1, max_length=3000)
    task: str = Field(min_length=1, max_length=1500)
    faq: str | None = Field(default=None, max_length=5000)
    sample_conversations: str | None = Field(default=None, max_length=5000)
    primary_language: PublicLanguage
    secondary_language: PublicLanguage | None = None
    voice_id: str = Field(max_length=64, description="From GET /agent/voices")
    intro_message: str = Field(min_length=1, max_length=500)
    agent_type: Literal["inbound", "outbound", "outbound_inbound"] = "outbound"
    custom_variables: list[str] | None = Field(default=None, max_length=50)


class PublicAgentUpdate(_Strict):
    agent_name: str | None = Field(default=None, min_length=1, max_length=100)
    introduction_and_objective: str | None = Field(default=None, max_length=2000)
    response_guidelines: str | None = Field(default=None, max_length=3000)
    task: str | None = Field(default=None, max_length=1500)
    faq: str | None = Field(default=None, max_length=5000)
    sample_conversations: str | None = Field(default=None, max_length=5000)
    primary_language: PublicLanguage | None = None
    secondary_language: PublicLanguage | None = None
    voice_id: str | None = Field(default=None, max_length=64)
    intro_message: str | None = Field(default=None, min_length=1, max_length=500)
    agent_type: Literal["inbound", "outbound", "outbound_inbound"] | None = None
    custom_variables: list[str] | None = Field(default=None, max_length=50)


class PublicAgentCreated(BaseModel):
    id: str
    version: str
    created_at: str


class PublicAgentCreateResponse(BaseModel):
    success: bool
    data: PublicAgentCreated
    message: str


class PublicAgentUpdated(BaseModel):
    id: str
    version: str
    updated_at: str


class PublicAgentUpdateResponse(BaseModel):
    success: bool
    data: PublicAgentUpdated
    message: str


class AgentEdit(BaseModel):
    """One operation of PATCH /agent/v1; the fields each operation needs are listed in the docs."""

    model_config = ConfigDict(extra="allow")
    operation: str = Field(max_length=64)
    agent_id: str = Field(max_length=64)
    version_id: str | None = Field(default=None, max_length=64)


class AgentEditResponse(BaseModel):
    model_config = ConfigDict(extra="allow")
    message: str
    agent_id: str


# --------------------------------------------------------------------------- read shapes


class VoiceRef(BaseModel):
    id: str
    name: str
    voice_preview: str
    image_url: str | None = None


def _voice_ref(voice_id: str | None) -> VoiceRef | None:
    entry = voices.find(voice_id) if voice_id else None
    if entry is None:
        return None
    return VoiceRef(id=entry.id, name=entry.name, voice_preview="")


def _variables(settings: VersionSettings) -> dict[str, str]:
    return {name: "string" for name in settings.agent_config.custom_variables}


def _version_detail(view: AgentView, index: int) -> dict[str, Any]:
    version = view.versions[index]
    s = VersionSettings.model_validate(version.settings)
    agent_config = s.agent_config.model_dump(mode="json")
    agent_config["custom_variables"] = s.agent_config.custom_variables
    return {
        "version_id": version.id,
        "version_slug": version.slug,
        "description": version.description,
        "call_traffic": str(version.call_traffic),
        "whitelisted_domains": s.whitelisted_domains,
        "language": s.language,
        "voice": voice.model_dump() if (voice := _voice_ref(s.voice_id)) else None,
        "secondary_language": s.secondary_language,
        "secondary_voice_id": s.secondary_voice_id or "",
        "additional_languages": s.additional_languages,
        "agent_config": agent_config,
        "call_config": s.call_config.model_dump(mode="json"),
        "tools": [],
        "pre_call_tools": [],
        "on_call_tools": [],
        "post_call_tools": [],
        "custom_analysis_prompt": s.custom_analysis_prompt,
        "client_analysis": s.client_analysis,
        "knowledge_bases": s.knowledge_bases,
        "event_subscriptions": [e.model_dump(mode="json") for e in s.event_subscriptions],
        "timezone": s.timezone,
        "created_at": iso(version.created_at),
        "updated_at": iso(version.updated_at),
    }


class AgentDetail(BaseModel):
    """Ringg's documented flat shape plus the live version-nested one (ringg-api.md §2.3)."""

    id: str
    agent_display_name: str
    agent_type: str
    orchestration_mode: str
    whitelisted_domains: list[str]
    language: str
    form_fields: list[dict[str, str]]
    voice: VoiceRef | None
    agent_config: dict[str, Any]
    knowledge_base_id: str | None
    knowledge_base_name: str | None
    template_name: str
    template_label: str
    template_icon: str
    template_type: str
    created_at: str
    updated_at: str
    tools: list[dict[str, Any]]
    secondary_language: str | None
    secondary_voice_id: str | None
    is_ab_live: bool
    ab_versions: dict[str, dict[str, Any]]
    active_agent_version_id: str | None
    classification_labels: dict[str, str]
    inbound_number_id: str
    webcall_public_key: str | None
    version_details: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, view: AgentView) -> AgentDetail:
        agent, active = view.agent, view.active
        s = VersionSettings.model_validate(active.settings)
        first_kb = s.knowledge_bases[0] if s.knowledge_bases else {}
        return cls(
            id=agent.id,
            agent_display_name=agent.display_name,
            agent_type=agent.agent_type,
            orchestration_mode=agent.orchestration_mode,
            whitelisted_domains=s.whitelisted_domains,
            language=s.language,
            form_fields=agent.form_fields,
            voice=_voice_ref(s.voice_id),
            agent_config={
                "custom_variables": _variables(s),
                "agent_prompt": prompt_text(s.agent_config.agent_prompt),
                "intro_message": intro_to_text(s.agent_config.intro_message),
            },
            knowledge_base_id=first_kb.get("knowledge_base_id"),
            knowledge_base_name=first_kb.get("knowledge_base_name"),
            template_name=agent.template_name,
            template_label=agent.template_label,
            template_icon=agent.template_icon,
            template_type=agent.agent_type,
            created_at=iso(agent.created_at),
            updated_at=iso(agent.updated_at),
            tools=agent.tools,
            secondary_language=s.secondary_language,
            secondary_voice_id=s.secondary_voice_id,
            is_ab_live=agent.is_ab_live,
            ab_versions={
                v.id: {"slug": v.slug, "description": v.description, "call_traffic": v.call_traffic}
                for v in view.versions
            },
            active_agent_version_id=None if agent.is_ab_live else agent.active_version_id,
            classification_labels=agent.classification_labels,
            inbound_number_id="",
            webcall_public_key=agent.webcall_public_key,
            version_details={v.id: _version_detail(view, i) for i, v in enumerate(view.versions)},
        )


class AgentDetailResponse(BaseModel):
    agents: AgentDetail


class AgentRow(BaseModel):
    id: str
    agent_display_name: str
    agent_type: str
    created_at: str
    updated_at: str
    template_name: str
    template_label: str
    template_icon: str
    template_source: str
    call_count: int
    custom_variables: dict[str, str]
    tools: list[dict[str, Any]]
    is_archived: bool
    secondary_language: str | None
    secondary_voice_id: str | None
    template_type: str
    orchestration_mode: str

    @classmethod
    def of(cls, view: AgentView) -> AgentRow:
        agent = view.agent
        s = VersionSettings.model_validate(view.active.settings)
        return cls(
            id=agent.id,
            agent_display_name=agent.display_name,
            agent_type=agent.agent_type,
            created_at=iso(agent.created_at),
            updated_at=iso(agent.updated_at),
            template_name=agent.template_name,
            template_label=agent.template_label,
            template_icon=agent.template_icon,
            template_source=agent.template_source,
            call_count=agent.call_count,
            custom_variables=_variables(s),
            tools=agent.tools,
            is_archived=agent.is_archived,
            secondary_language=s.secondary_language,
            secondary_voice_id=s.secondary_voice_id,
            template_type=agent.agent_type,
            orchestration_mode=agent.orchestration_mode,
        )


class AgentList(BaseModel):
    agents: list[AgentRow]


class AgentListResponse(BaseModel):
    status: str
    data: AgentList


class VoiceOut(BaseModel):
    id: str
    name: str
    languages: list[str]
    voice_previews: dict[str, str]
    image_url: str | None
    gender: str
    tts_provider: str
    created_at: str
    updated_at: str


class VoicesResponse(BaseModel):
    voices: list[VoiceOut]
