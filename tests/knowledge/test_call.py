"""A call on the sim network whose answers need facts that exist only in an attached
knowledge base: one in a PDF, one in an FAQ."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest

from callwright.knowledge.grounding import CONTEXT_HEADER
from callwright.providers import registry
from callwright.providers.base import ChatMessage, EngineSpec
from callwright.testing import ScriptedLLM
from tests.api.bodies import public_agent
from tests.calls.conftest import call_body
from tests.calls.test_calls_api import wait_status
from tests.conftest import Tenant
from tests.knowledge.conftest import KBPlatform, create_kb, pdf_upload, wait_settled
from tests.knowledge.fixtures import PETS_FAQ, handbook_pdf

QUESTIONS = [
    "What time does the Harbor Street branch close on Thursdays?",
    "Are pets allowed in the store?",
    "Thank you, goodbye.",
]
_WORDS = re.compile(r"[a-z0-9:]+")
_STOP = {"the", "a", "in", "on", "does", "what", "are", "is", "do", "you", "time", "our"}


def _content_words(text: str) -> set[str]:
    return {w.rstrip(":") for w in _WORDS.findall(text.lower())} - _STOP


def reader(messages: Sequence[ChatMessage]) -> str:
    """An LLM that can only answer from the knowledge excerpts in its system message: it
    repeats the excerpt sentence sharing most words with the question."""
    question = messages[-1].content
    if "goodbye" in question.lower():
        return "You are welcome. Goodbye!"
    system = messages[0].content
    if CONTEXT_HEADER not in system:
        return "Sorry, I do not know that."
    excerpts = re.sub(r"\[\d+\] \([^)]*\)", "\n", system.split(CONTEXT_HEADER, 1)[1])
    sentences = [s.strip() for s in re.split(r"(?<=[.?!])\s+|\n|Q: |A: ", excerpts) if s.strip()]
    asked = _content_words(question)
    best = max(sentences, key=lambda s: len(asked & _content_words(s)))
    if best.endswith("?"):  # an FAQ's question matched: its answer follows it
        best = sentences[sentences.index(best) + 1]
    return best


async def setup_agent(t: Tenant, app: Any) -> tuple[str, str, str]:
    r = await create_kb(
        t, "Store", files=[pdf_upload("handbook.pdf", handbook_pdf())], faqs=[PETS_FAQ]
    )
    kb_id = r.json()["kb_id"]
    await wait_settled(app, t, kb_id)
    agent_id = (await t.client.post("/public/agent", json=public_agent())).json()["data"]["id"]
    r = await t.client.patch(
        "/agent/v1", json={"operation": "attach_kb", "agent_id": agent_id, "kb_id": kb_id}
    )
    assert r.status_code == 200, r.text
    number = (await t.client.get("/workspace/numbers")).json()["workspace_numbers"][0]
    return agent_id, number["id"], kb_id


async def place_call(
    t: Tenant, agent_id: str, number_id: str, *, timeout_s: float = 120
) -> list[dict[str, str]]:
    r = await t.client.post(
        "/calling/outbound/individual", json=call_body(agent_id, from_number_id=number_id)
    )
    assert r.status_code == 200, r.text
    details = await wait_status(t, r.json()["data"]["call_id"], "completed", timeout_s=timeout_s)
    turns: list[dict[str, str]] = details["transcription_url"]
    return turns


def bot_text(turns: list[dict[str, str]]) -> str:
    return " ".join(t.get("bot", "") for t in turns)


async def test_answers_come_from_the_attached_pdf_and_faq(
    kb_platform: KBPlatform, tenant: Tenant
) -> None:
    kb_platform.engines.caller_lines = QUESTIONS
    kb_platform.engines.llm = lambda: ScriptedLLM(reader)
    agent_id, number_id, _ = await setup_agent(tenant, kb_platform.app)
    turns = await place_call(tenant, agent_id, number_id)

    assert {"user": QUESTIONS[0]} in turns and {"user": QUESTIONS[1]} in turns, turns
    spoken = bot_text(turns)
    assert "closes at 7:45 pm on Thursdays" in spoken, turns
    assert "Only trained service animals are allowed inside our stores." in spoken, turns
    # The facts reached the model only through the knowledge excerpts of its system message.
    llm = kb_platform.engines.built[-1].llm
    assert isinstance(llm, ScriptedLLM)
    first = next(r for r in llm.requests if r[-1].content == QUESTIONS[0])
    assert "(handbook.pdf, page 2)" in first[0].content
    assert "7:45" not in first[0].content.split(CONTEXT_HEADER)[0]  # not in the agent prompt


async def test_without_the_knowledge_base_the_fact_is_unknown(
    kb_platform: KBPlatform, tenant: Tenant
) -> None:
    kb_platform.engines.caller_lines = QUESTIONS
    kb_platform.engines.llm = lambda: ScriptedLLM(reader)
    agent_id, number_id, kb_id = await setup_agent(tenant, kb_platform.app)
    r = await tenant.client.patch(
        "/agent/v1", json={"operation": "remove_kb", "agent_id": agent_id, "kb_id": kb_id}
    )
    assert r.status_code == 200
    spoken = bot_text(await place_call(tenant, agent_id, number_id))
    assert "7:45" not in spoken and "Sorry, I do not know that." in spoken


@pytest.mark.engines
@pytest.mark.slow
async def test_the_offline_llm_answers_from_the_knowledge_base(
    kb_platform: KBPlatform, tenant: Tenant
) -> None:
    """The bundled Qwen 0.5B (in-process llama.cpp) reads the excerpts and answers. (It
    answers "Are pets allowed?" loosely, so the FAQ question asks which animals are.)"""
    local = registry.create("llm", EngineSpec("local"))
    kb_platform.engines.caller_lines = [
        QUESTIONS[0],
        "Which animals are allowed inside the store?",
        QUESTIONS[2],
    ]
    kb_platform.engines.llm = lambda: local
    agent_id, number_id, _ = await setup_agent(tenant, kb_platform.app)
    turns = await place_call(tenant, agent_id, number_id, timeout_s=300)
    spoken = bot_text(turns).lower()
    assert "7:45" in spoken, turns
    assert "service animal" in spoken, turns
