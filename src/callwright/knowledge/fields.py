"""The multipart fields of the knowledge-base API that carry JSON (Ringg sends ``urls``,
``faqs``, ``*_to_remove`` ... as JSON strings), parsed and checked into plain values."""

from __future__ import annotations

import json
from typing import Any

from callwright.domain.errors import InvalidRequest
from callwright.knowledge.limits import KnowledgeLimits


def parse_json_list(raw: str | None, name: str) -> list[Any]:
    """A multipart field that carries a JSON array (Ringg sends these as strings)."""
    if raw is None or not raw.strip():
        return []
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"'{name}' must be a JSON array: {exc.msg}") from exc
    if not isinstance(value, list):
        raise InvalidRequest(f"'{name}' must be a JSON array")
    return value


def parse_json_object(raw: str | None, name: str) -> dict[str, Any]:
    if raw is None or not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"'{name}' must be a JSON object: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise InvalidRequest(f"'{name}' must be a JSON object")
    return value


def strings(values: list[Any], name: str) -> list[str]:
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise InvalidRequest(f"'{name}' must be an array of non-empty strings")
    return [v.strip() for v in values]


def faqs(values: list[Any], name: str, limits: KnowledgeLimits) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for n, item in enumerate(values):
        if not isinstance(item, dict):
            raise InvalidRequest(f"'{name}[{n}]' must be an object with question and answer")
        question, answer = item.get("question"), item.get("answer")
        if not isinstance(question, str) or not isinstance(answer, str):
            raise InvalidRequest(f"'{name}[{n}]' needs string 'question' and 'answer'")
        if not question.strip() or not answer.strip():
            raise InvalidRequest(f"'{name}[{n}]' has an empty question or answer")
        if len(question) + len(answer) > limits.max_faq_chars:
            raise InvalidRequest(f"'{name}[{n}]' is longer than {limits.max_faq_chars} characters")
        out.append({"question": question.strip(), "answer": answer.strip()})
    return out


def string_list(raw: str | None, name: str) -> list[str]:
    """A JSON array of non-empty strings."""
    return strings(parse_json_list(raw, name), name)
