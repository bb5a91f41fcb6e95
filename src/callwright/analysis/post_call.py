"""Summary, classification and custom extraction of one finished call, with the assistant's LLM.

A JSON schema fixes the shape; few-shot turns and the rule layer (rules.py) steady the labels
of small local models. Raw model output is kept for review.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from callwright.analysis.rules import rule_label
from callwright.providers.base import ChatMessage, LanguageModel

_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "array": {"type": "array", "items": {"type": "string"}},
    "date": {"type": "string"},
    "datetime": {"type": "string"},
}
_FEW_SHOT = [
    (
        "agent: Would you like a demo of our product?\nuser: Yes, tomorrow at ten works for me.",
        {
            "summary": "The user agreed to a product demo tomorrow at ten.",
            "key_points": ["demo booked for tomorrow 10:00"],
            "callback_requested": False,
            "sentiment": "positive",
        },
    ),
    (
        "agent: Would you like a demo of our product?\nuser: No, I'm not interested. Bye.",
        {
            "summary": "The user declined the demo.",
            "key_points": ["not interested"],
            "callback_requested": False,
            "sentiment": "negative",
        },
    ),
]


@dataclass(frozen=True, slots=True)
class Analysis:
    platform: dict[str, Any]
    client: dict[str, Any] | None
    raw: str


def transcript_text(transcript: list[dict[str, str]]) -> str:
    lines = []
    for turn in transcript:
        for role, text in turn.items():
            if role in ("bot", "user"):
                lines.append(f"{'agent' if role == 'bot' else 'user'}: {text}")
    return "\n".join(lines)


def _schema(labels: list[str], keys: dict[str, str]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "summary": {"type": "string"},
        "key_points": {"type": "array", "items": {"type": "string"}},
        "callback_requested": {"type": "boolean"},
        "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
    }
    if labels:
        properties["classification"] = {"type": "string", "enum": labels}
    for name, kind in keys.items():
        properties[name] = _TYPES.get(kind, {"type": "string"})
    return {"type": "object", "properties": properties, "required": list(properties)}


def _messages(
    text: str, labels: dict[str, str], prompt: str, keys: dict[str, str]
) -> list[ChatMessage]:
    label_lines = "\n".join(f"- {k}: {v}" for k, v in labels.items())
    system = (
        "You analyse finished phone calls between an AI agent and a user. Answer with JSON only. "
        "summary: one or two sentences about what the user said and decided."
        + (f"\nclassification: exactly one of these labels:\n{label_lines}" if labels else "")
        + (f"\nAlso extract: {', '.join(keys)}. {prompt}" if keys else "")
    )
    messages = [ChatMessage("system", system)]
    for example, answer in _FEW_SHOT:
        messages += [ChatMessage("user", example), ChatMessage("assistant", json.dumps(answer))]
    messages.append(ChatMessage("user", text or "(no conversation)"))
    return messages


async def analyse(
    llm: LanguageModel,
    *,
    transcript: list[dict[str, str]],
    labels: dict[str, str],
    custom_prompt: dict[str, Any] | None,
    end_reason: str | None,
    voicemail: bool,
) -> Analysis:
    text = transcript_text(transcript)
    keys: dict[str, str] = dict((custom_prompt or {}).get("keys") or {})
    prompt = str((custom_prompt or {}).get("prompt") or "")
    label_names = list(labels)
    raw = await llm.complete_json(
        _messages(text, labels, prompt, keys), schema=_schema(label_names, keys), max_tokens=400
    )
    caller_words = " ".join(t.get("user", "") for t in transcript)
    classification = raw.get("classification") if label_names else None
    if label_names:
        classification = rule_label(caller_words, label_names) or (
            classification if classification in label_names else None
        )
    platform = {
        "summary": str(raw.get("summary") or "").strip(),
        "classification": classification,
        "key_points": [str(p) for p in raw.get("key_points") or []][:10],
        "action_items": [],
        "callback_requested": bool(raw.get("callback_requested")),
        "callback_requested_time": None,
        "sentiment": raw.get("sentiment")
        if raw.get("sentiment") in ("positive", "neutral", "negative")
        else "neutral",
        "call_disconnect_reason": "agent_hangup"
        if end_reason in ("agent_hangup", "max_duration", "idle_timeout")
        else "user_hangup",
        "voicemail_detected": voicemail,
        "status": "analyzed",
    }
    client = None
    if keys:
        defaults = dict((custom_prompt or {}).get("defaults") or {})
        client = {name: raw.get(name, defaults.get(name)) for name in keys}
    return Analysis(platform=platform, client=client, raw=json.dumps(raw, ensure_ascii=False))
