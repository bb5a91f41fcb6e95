"""Placeholder filling and the conversation-ending conventions of the prompt.

Assistants write ``@{{name}}`` (Ringg's form) or ``{{name}}`` in prompts and intro messages;
values come from the call's variables (``custom_args_values``). Unknown names are left as
they are, so a missing variable is visible rather than silently blank.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"@?\{\{\s*([A-Za-z_][A-Za-z0-9_\-\.]*)\s*\}\}")

GOODBYE_INSTRUCTION = (
    "This is a spoken phone call: answer in one to three short sentences of plain text "
    "with no lists or markup. When the conversation is complete, end your reply with "
    "'Goodbye!'."
)

_GOODBYE = re.compile(
    r"\b(good\s*-?\s*bye|bye(\s*-?\s*bye)?|have a (great|good|nice|wonderful) (day|evening|night)"
    r"|take care|alvida|phir milenge)\b",
    re.IGNORECASE,
)


def fill_placeholders(template: str, variables: Mapping[str, str]) -> str:
    """Replace ``@{{name}}`` and ``{{name}}`` with ``variables[name]``; keep unknown ones."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        return variables[name] if name in variables else match.group(0)

    return _PLACEHOLDER.sub(sub, template)


def system_prompt(template: str, variables: Mapping[str, str]) -> str:
    """The LLM system prompt: the assistant's prompt filled in, plus the call conventions."""
    filled = fill_placeholders(template, variables).strip()
    return f"{filled}\n\n{GOODBYE_INSTRUCTION}" if filled else GOODBYE_INSTRUCTION


def is_goodbye(text: str) -> bool:
    """True when ``text`` takes leave (goodbye, bye, have a great day, ...)."""
    return _GOODBYE.search(text) is not None
