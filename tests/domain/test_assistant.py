"""Pure assistant rules."""

from __future__ import annotations

import pytest

from callwright.domain.assistant import (
    CallConfig,
    deep_merge,
    intro_to_text,
    prompt_from_public_fields,
    prompt_text,
    replace_variables,
    variables_for,
)
from callwright.domain.errors import Forbidden, InvalidRequest
from callwright.domain.phone import normalize_e164


def test_outbound_variables_always_lead_with_the_protected_two() -> None:
    assert variables_for("outbound", ["company", "callee_name"]) == [
        "callee_name",
        "mobile_number",
        "company",
    ]
    assert variables_for("inbound", ["company"]) == ["company"]
    with pytest.raises(Forbidden):
        replace_variables("outbound", ["callee_name", "mobile_number"], ["company"])
    with pytest.raises(InvalidRequest):
        variables_for("inbound", ["has space"])


def test_intro_html_keeps_words_and_variables() -> None:
    html = (
        '<p>Hi <span data-type="mention" data-id="{{callee_name}}">@{{callee_name}}</span>,'
        "&nbsp;this is Maya &amp; co.</p>"
    )
    assert intro_to_text(html) == "Hi @{{callee_name}}, this is Maya & co."


def test_public_fields_become_titled_sections() -> None:
    prompt = prompt_from_public_fields({"task": "Book demos", "faq": "Q: A"})
    assert [s.section_title for s in prompt.prompt_sections] == ["Task", "FAQs"]
    assert prompt_text(prompt) == "## Task\nBook demos\n\n## FAQs\nQ: A"


def test_deep_merge_and_call_config_defaults() -> None:
    merged = deep_merge({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 3}})
    assert merged == {"a": {"b": 3, "c": 2}, "d": 1}
    config = CallConfig()
    assert (config.idle_timeout_warning, config.idle_timeout_end, config.max_call_length) == (
        5,
        10,
        240,
    )
    assert config.call_retry_config.retry_busy == 30
    assert config.call_time.timezone == "Asia/Kolkata"


def test_phone_numbers_normalise_to_e164() -> None:
    assert normalize_e164("+91 80357 35900") == "+918035735900"
    assert normalize_e164("(415) 555-0123", default_region="US") == "+14155550123"
    for bad in ("12345", "+1", "call me", ""):
        with pytest.raises(InvalidRequest):
            normalize_e164(bad)
