"""Cheap, certain rules that override a small model's label on clear phrases.

The embedded 0.5B model often reads "not interested, don't call again" as interested
(research/llm-runtime.md); the caller's own words settle such cases.
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        re.compile(
            r"wrong number|no (one|body) (called|named|by that name)|you have the wrong", re.I
        ),
        ("wrong_number",),
    ),
    (
        re.compile(
            r"not interested|don'?t call|do not call|stop calling|remove (me|my number)", re.I
        ),
        ("not_interested", "not interested", "declined", "dnd"),
    ),
    (
        re.compile(
            r"call (me )?(back|later|tomorrow|again)|ring me|busy (right )?now|another time", re.I
        ),
        ("call_back_later", "callback", "call back later", "call_back"),
    ),
)


def rule_label(caller_text: str, labels: list[str]) -> str | None:
    """The label a clear phrase of the caller's points to, if the assistant has that label."""
    by_lower = {label.lower(): label for label in labels}
    for pattern, candidates in _RULES:
        if pattern.search(caller_text):
            for candidate in candidates:
                if candidate in by_lower:
                    return by_lower[candidate]
    return None
