"""Placeholder filling and goodbye detection."""

from __future__ import annotations

import pytest

from callwright.media.prompting import (
    GOODBYE_INSTRUCTION,
    fill_placeholders,
    is_goodbye,
    system_prompt,
)


def test_fills_both_placeholder_forms_and_keeps_unknown_ones() -> None:
    out = fill_placeholders(
        "Hi @{{name}}, your order {{ order_id }} ships @{{when}}. {{missing}}",
        {"name": "Asha", "order_id": "A-17", "when": "today"},
    )
    assert out == "Hi Asha, your order A-17 ships today. {{missing}}"


def test_values_are_inserted_literally() -> None:
    assert fill_placeholders("{{a}}", {"a": r"\1 {{b}}", "b": "x"}) == r"\1 {{b}}"


def test_system_prompt_adds_goodbye_instruction() -> None:
    p = system_prompt("You sell @{{product}}.", {"product": "tea"})
    assert p.startswith("You sell tea.") and p.endswith(GOODBYE_INSTRUCTION)
    assert system_prompt("", {}) == GOODBYE_INSTRUCTION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks for calling. Goodbye!", True),
        ("ok bye", True),
        ("Have a great day.", True),
        ("Take care!", True),
        ("Good-bye", True),
        ("Is there anything else?", False),
        ("The bypass road is closed.", False),
        ("maybe", False),
    ],
)
def test_goodbye_detection(text: str, expected: bool) -> None:
    assert is_goodbye(text) is expected
