"""Request bodies used across API tests."""

from __future__ import annotations

from typing import Any

from callwright.domain.voices import find

JOE = find("piper:en_US-joe-medium")
HINDI = find("espeak:hi")
assert JOE is not None and HINDI is not None


def public_agent(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agent_name": "My Sales Agent",
        "introduction_and_objective": "You are a customer support agent for Acme Corp.",
        "response_guidelines": "Be polite, helpful, and concise. Always confirm understanding.",
        "task": "Help customers with their orders and answer product questions.",
        "faq": "Q: What are your hours? A: We are open 9am-6pm IST.",
        "primary_language": "en-IN",
        "voice_id": JOE.id,
        "intro_message": "Hello @{{callee_name}}, this is Sarah from Acme Corp.",
        "agent_type": "outbound",
        "custom_variables": ["company", "lead_source"],
    }
    body.update(overrides)
    return body
