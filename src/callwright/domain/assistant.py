"""Assistants (Ringg "agents"): types, languages, per-version settings and their rules."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from callwright.domain.errors import Forbidden, InvalidRequest

AgentType = Literal["inbound", "outbound", "outbound_inbound", "webcall"]
# The union of every locale Ringg documents (ringg-api.md §1.10); "ka-IN" is Ringg's typo for kn-IN.
Language = Literal[
    "en-US", "en-IN", "en-GB", "hi-IN", "ta-IN", "te-IN", "kn-IN", "ka-IN",
    "mr-IN", "gu-IN", "bn-IN", "ar-AE",
]  # fmt: skip
PROTECTED_VARIABLES = ("callee_name", "mobile_number")
OUTBOUND_TYPES = ("outbound", "outbound_inbound")
DEFAULT_WHITELISTED_DOMAIN = "https://www.ringg.ai"
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class _Model(BaseModel):
    # Unknown keys are kept: Ringg clients send many settings we store and echo back.
    model_config = ConfigDict(extra="allow")


class PromptSection(BaseModel):
    section_title: str = Field(max_length=200)
    section_content: str = Field(max_length=20_000)


class PromptSections(BaseModel):
    prompt_sections: list[PromptSection]


class LLMChoice(_Model):
    provider: str = "local"
    model: str | None = None
    temperature: float = Field(default=0.2, ge=0, le=2)


class EngineChoice(_Model):
    provider: str
    model: str | None = None


class CallTime(_Model):
    call_start_time: str = "00:00"
    call_end_time: str = "23:00"
    timezone: str = "Asia/Kolkata"
    scheduled_at: str | None = None

    @field_validator("call_start_time", "call_end_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("must be HH:MM (24-hour)")
        return value


class RetryConfig(_Model):
    retry_count: int = Field(default=0, ge=0, le=10)
    retry_busy: int = Field(default=30, ge=0, description="minutes")
    retry_not_picked: int = Field(default=30, ge=0, description="minutes")
    retry_failed: int = Field(default=30, ge=0, description="minutes")


class VoicemailConfig(_Model):
    detect: bool = True
    action: str = "hangup"
    retry: bool = False
    static_message: str | None = None


class CallConfig(_Model):
    idle_timeout_warning: int = Field(default=5, ge=1, le=600)
    idle_timeout_end: int = Field(default=10, ge=1, le=1200)
    max_call_length: int = Field(default=240, ge=10, le=7200)
    call_retry_config: RetryConfig = Field(default_factory=RetryConfig)
    call_time: CallTime = Field(default_factory=CallTime)
    voicemail: VoicemailConfig = Field(default_factory=VoicemailConfig)


class AgentConfig(_Model):
    agent_prompt: str | PromptSections = ""
    intro_message: str = ""
    custom_variables: list[str] = Field(default_factory=list)
    vocab: list[str] = Field(default_factory=list, max_length=100)
    voice_speed: float = Field(default=1.0, ge=0.5, le=2.0)
    pre_query_response_phrases: list[str] = Field(default_factory=list)
    pre_query_phrase_probability: float = Field(default=0.6, ge=0, le=1)
    mute_while_bot_speaking: bool = False
    mute_during_intro: bool = False
    interruption_sensitivity: str | None = None
    dtmf_settings: dict[str, Any] | None = None
    vad_settings: dict[str, Any] | None = None
    noise_settings: dict[str, Any] | None = None
    llm: LLMChoice = Field(default_factory=LLMChoice)
    stt: EngineChoice = Field(default_factory=lambda: EngineChoice(provider="whisper"))
    vad: EngineChoice = Field(default_factory=lambda: EngineChoice(provider="silero"))
    extract_callee_name: bool = False


class EventSubscription(_Model):
    event_type: list[str]
    callback_url: str = Field(max_length=2048)
    headers: dict[str, str] = Field(default_factory=dict)
    method_type: Literal["POST", "PUT", "PATCH"] = "POST"
    auth_fetch_config: dict[str, Any] | None = None

    @field_validator("event_type", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


EVENT_TYPES = (
    "call_started",
    "call_completed",
    "recording_completed",
    "platform_analysis_completed",
    "client_analysis_completed",
    "all_processing_completed",
    "call_ringing",
    "call_ongoing",
)


class VersionSettings(_Model):
    """Everything Ringg keeps per agent version (ringg-api.md §3.2)."""

    language: Language = "en-US"
    voice_id: str | None = None
    secondary_language: Language | None = None
    secondary_voice_id: str | None = None
    additional_languages: list[str] = Field(default_factory=list)
    whitelisted_domains: list[str] = Field(default_factory=lambda: [DEFAULT_WHITELISTED_DOMAIN])
    agent_config: AgentConfig = Field(default_factory=AgentConfig)
    call_config: CallConfig = Field(default_factory=CallConfig)
    event_subscriptions: list[EventSubscription] = Field(default_factory=list)
    custom_analysis_prompt: dict[str, Any] | None = None
    client_analysis: dict[str, Any] | None = None
    knowledge_bases: list[dict[str, str]] = Field(default_factory=list)
    api_settings: dict[str, Any] | None = None
    timezone: str = "Asia/Kolkata"
    # The /public/agent form, kept so a PATCH can rebuild the prompt from one changed field.
    public_fields: dict[str, str] = Field(default_factory=dict)


def check_variable_names(names: list[str]) -> list[str]:
    """Validate variable names and drop duplicates, keeping order."""
    seen: dict[str, None] = {}
    for name in names:
        if not isinstance(name, str) or not _VARIABLE_NAME.match(name):
            raise InvalidRequest(f"Invalid custom variable name {name!r}")
        seen[name] = None
    return list(seen)


def variables_for(agent_type: str, names: list[str]) -> list[str]:
    """Outbound agents always carry callee_name and mobile_number, first."""
    names = check_variable_names(names)
    if agent_type in OUTBOUND_TYPES:
        rest = [n for n in names if n not in PROTECTED_VARIABLES]
        return [*PROTECTED_VARIABLES, *rest]
    return names


def replace_variables(agent_type: str, current: list[str], new: list[str]) -> list[str]:
    """A full replacement of the variable list; outbound agents may not drop the protected two."""
    new = check_variable_names(new)
    if agent_type in OUTBOUND_TYPES:
        missing = [v for v in PROTECTED_VARIABLES if v not in new]
        if missing:
            raise Forbidden(
                f"Cannot remove protected variables from an outbound agent: {', '.join(missing)}"
            )
    return variables_for(agent_type, new)


PUBLIC_SECTION_TITLES = (
    ("introduction_and_objective", "Introduction and Objective"),
    ("response_guidelines", "Response Guidelines"),
    ("task", "Task"),
    ("faq", "FAQs"),
    ("sample_conversations", "Conversation Script"),
)


def prompt_from_public_fields(fields: dict[str, str]) -> PromptSections:
    """Turn the /public/agent form into prompt sections, with Ringg's section titles."""
    return PromptSections(
        prompt_sections=[
            PromptSection(section_title=title, section_content=fields[key])
            for key, title in PUBLIC_SECTION_TITLES
            if fields.get(key)
        ]
    )


def prompt_text(prompt: str | PromptSections) -> str:
    """The prompt as one text for the LLM."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(f"## {s.section_title}\n{s.section_content}" for s in prompt.prompt_sections)


_TAG = re.compile(r"<[^>]+>")


def intro_to_text(intro: str) -> str:
    """The dashboard stores intros as HTML with mention spans; keep the words and @{{vars}}."""
    text = _TAG.sub("", intro.replace("<br>", " ").replace("</p>", " "))
    for entity, char in (("&nbsp;", " "), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")):
        text = text.replace(entity, char)
    return re.sub(r"\s+", " ", text).strip()


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Merge ``patch`` into a copy of ``base``, recursing into nested objects."""
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out
