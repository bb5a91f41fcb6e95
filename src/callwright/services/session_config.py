"""From an assistant version and a call to the media engine's SessionConfig."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from callwright.db.models import Call
from callwright.domain.assistant import CallConfig, VersionSettings, intro_to_text, prompt_text
from callwright.knowledge import GroundedLLM, KnowledgeLookup
from callwright.media.config import CallRules, Engines, SessionConfig, TurnSettings

_SENSITIVITY_MS = {"sensitive": 350, "default": 500, "strict": 800}


def session_config(
    call: Call,
    settings: VersionSettings,
    engines: Engines,
    *,
    recording_path: Path | None,
    knowledge: KnowledgeLookup | None = None,
) -> SessionConfig:
    """``knowledge``: the assistant's attached knowledge bases; each reply is grounded in
    them (and a filler phrase covers a slow lookup)."""
    config = CallConfig.model_validate(call.call_config)
    ac = settings.agent_config
    if knowledge is not None:
        engines = replace(
            engines,
            llm=GroundedLLM(
                inner=engines.llm,
                knowledge=knowledge,
                phrases=ac.pre_query_response_phrases,
                phrase_probability=ac.pre_query_phrase_probability,
            ),
        )
    sensitivity = (ac.vad_settings or {}).get(
        "interruption_sensitivity"
    ) or ac.interruption_sensitivity
    return SessionConfig(
        engines=engines,
        system_prompt=prompt_text(ac.agent_prompt),  # the session adds the phone-call rules
        intro_message=intro_to_text(ac.intro_message),
        variables={k: str(v) for k, v in call.custom_args_values.items()},
        language=settings.language.split("-")[0],
        rules=CallRules(
            idle_timeout_warning_s=float(config.idle_timeout_warning),
            idle_timeout_end_s=float(config.idle_timeout_end),
            max_call_length_s=float(config.max_call_length),
        ),
        turns=TurnSettings(
            pause_after_ms=_SENSITIVITY_MS.get(str(sensitivity), 500),
            interruptible=not ac.mute_while_bot_speaking,
        ),
        llm_temperature=ac.llm.temperature,
        recording_path=recording_path,
        call_id=call.id,
    )
