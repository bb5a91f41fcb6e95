"""Chunking, query building, fusion, extraction and grounding, each on its own."""

from __future__ import annotations

import asyncio
import itertools
import random

import pytest

from callwright.knowledge import GroundedLLM, Passage, context_block, grounded_messages, ingest
from callwright.knowledge.chunking import Section, chunk_sections, normalise
from callwright.knowledge.fusion import reciprocal_rank_fusion
from callwright.knowledge.grounding import CONTEXT_HEADER, DEFAULT_FILLER
from callwright.knowledge.ingest import IngestError
from callwright.knowledge.lexical import fts5_query, query_terms, websearch_query
from callwright.providers.base import ChatMessage
from callwright.testing import ScriptedLLM
from callwright.testing.documents import docx_document, pdf_document
from callwright.testing.knowledge import FakeKnowledge


def test_chunks_keep_order_location_and_overlap() -> None:
    text = " ".join(f"Sentence {i} is about subject {i}." for i in range(80))
    chunks = chunk_sections([Section(text, "page 1"), Section("Tiny page.", "page 2")])
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert all(len(c.text) <= 600 for c in chunks)
    assert chunks[-1].text == "Tiny page." and chunks[-1].location == "page 2"
    assert {c.location for c in chunks[:-1]} == {"page 1"}
    for before, after in itertools.pairwise(chunks[:-1]):
        first_of_next = after.text.split(". ")[0] + "."
        assert first_of_next in before.text  # the next chunk starts inside the previous one
    # every sentence survives
    joined = " ".join(c.text for c in chunks)
    assert all(f"Sentence {i} is about subject {i}." in joined for i in range(80))


def test_run_on_text_is_cut_at_spaces_and_control_characters_go() -> None:
    chunks = chunk_sections([Section("word " * 400)])
    assert len(chunks) >= 3 and all(len(c.text) <= 600 for c in chunks)
    assert all(not c.text.startswith(" ") and "wor d" not in c.text for c in chunks)
    assert normalise("a\x00b\x07  c\n\n\n\nd") == "ab c\n\nd"


def test_query_terms_never_become_operators() -> None:
    terms = query_terms('What is "NEAR" the OR price* of (plan) -x AND y? Price!')
    assert terms == ["near", "price", "plan", "x", "y"]
    assert fts5_query(terms) == '"near" OR "price" OR "plan" OR "x" OR "y"'
    assert websearch_query(["a1", "b"]) == "a1 or b"
    assert query_terms("the and of") == []


def test_reciprocal_rank_fusion() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 4]], k=60)
    assert [item for item, _ in fused] == [3, 1, 2, 4]
    assert fused[0][1] == pytest.approx(1 / 63 + 1 / 61)
    assert reciprocal_rank_fusion([[], []]) == []
    assert [i for i, _ in reciprocal_rank_fusion([["a"], ["b"]])] == ["a", "b"]  # stable ties


def test_extraction_of_each_format() -> None:
    pdf = ingest.extract(ingest.PDF, pdf_document(["First (page).", "Second page."]))
    assert [(s.location, s.text.strip()) for s in pdf] == [
        ("page 1", "First (page)."),
        ("page 2", "Second page."),
    ]
    docx = ingest.extract(ingest.DOCX, docx_document(["Alpha.", "Beta."]))
    assert docx[0].text == "Alpha.\n\nBeta."
    md = ingest.extract(ingest.MARKDOWN, b"# Title\n\n- **Bold** [link](http://x)\n")
    assert md[0].text.split() == ["Title", "Bold", "link"]
    html = ingest.extract(
        ingest.HTML, b"<html><script>x()</script><p>Hi &amp; bye</p><style>p{}</style></html>"
    )
    assert html[0].text.strip() == "Hi & bye"
    assert ingest.extract(ingest.TEXT, "café".encode("latin-1"))[0].text == "café"


@pytest.mark.parametrize(
    ("file_type", "data", "reason"),
    [
        (ingest.PDF, b"%PDF-1.4\ngarbage", "not a readable PDF"),
        (ingest.PDF, pdf_document([""]), "no text found"),
        (ingest.DOCX, b"PK\x03\x04 not a zip", "not a readable DOCX"),
        (ingest.TEXT, b"   \n ", "no text found"),
    ],
)
def test_unreadable_content_gives_a_reason(file_type: str, data: bytes, reason: str) -> None:
    with pytest.raises(IngestError, match=reason):
        ingest.extract(file_type, data)


def test_upload_checks() -> None:
    assert ingest.file_type_of("Guide.PDF") == ingest.PDF
    assert ingest.file_type_of("notes.markdown") == ingest.MARKDOWN
    assert ingest.file_type_of("run.exe") is None
    assert ingest.looks_like(ingest.PDF, b"%PDF-1.7 ...")
    assert not ingest.looks_like(ingest.DOCX, b"%PDF-1.7")
    assert not ingest.looks_like(ingest.TEXT, b"\x00\x01binary")
    assert ingest.content_type_of("text/html; charset=utf-8") == ingest.HTML


PASSAGES = [
    Passage("The Harbor Street branch closes at 7:45 pm on Thursdays.", "handbook.pdf", "page 2"),
    Passage("Q: Pets?\nA: Only service animals.", "FAQ"),
]


def test_context_block_and_messages() -> None:
    block = context_block(PASSAGES)
    assert block.startswith(CONTEXT_HEADER)
    assert "[1] (handbook.pdf, page 2) The Harbor" in block and "[2] (FAQ) Q: Pets?" in block
    messages = grounded_messages(
        [ChatMessage("system", "Be nice."), ChatMessage("user", "hours?")], PASSAGES
    )
    assert messages[0].content.startswith("Be nice.\n\n" + CONTEXT_HEADER)
    assert messages[1] == ChatMessage("user", "hours?")
    assert grounded_messages([ChatMessage("user", "x")], [])[0] == ChatMessage("user", "x")
    assert len(context_block([Passage("x" * 5000, "big")] * 3, max_chars=2400)) < 2600


async def collect(llm: GroundedLLM, question: str) -> str:
    out = ""
    async for delta in llm.stream(
        [ChatMessage("system", "Be nice."), ChatMessage("user", question)]
    ):
        out += delta
    return out


async def test_grounded_llm_puts_passages_in_the_system_message() -> None:
    inner = ScriptedLLM(["It closes at 7:45 pm."])
    knowledge = FakeKnowledge(PASSAGES)
    llm = GroundedLLM(inner=inner, knowledge=knowledge, phrases=["Hmm."], phrase_probability=1)
    assert await collect(llm, "When does Harbor Street close?") == "It closes at 7:45 pm."
    assert knowledge.queries == ["When does Harbor Street close?"]
    assert "7:45 pm on Thursdays" in inner.requests[0][0].content
    assert llm.fillers == 0  # the lookup was quick: no filler


async def test_a_slow_lookup_is_covered_by_a_filler_phrase() -> None:
    inner = ScriptedLLM(["It closes at 7:45 pm."])
    knowledge = FakeKnowledge(PASSAGES, delay_s=0.2)
    llm = GroundedLLM(
        inner=inner,
        knowledge=knowledge,
        phrases=["Let me look that up."],
        phrase_probability=1.0,
        filler_after_s=0.05,
    )
    deltas: list[str] = []
    async for delta in llm.stream([ChatMessage("user", "When does Harbor Street close?")]):
        deltas.append(delta)
    assert deltas[0] == "Let me look that up. "  # whole sentence: spoken while we wait
    assert "".join(deltas[1:]) == "It closes at 7:45 pm."
    assert "7:45 pm on Thursdays" in inner.requests[0][0].content
    never = GroundedLLM(
        inner=ScriptedLLM(["ok"]),
        knowledge=FakeKnowledge(PASSAGES, delay_s=0.2),
        phrase_probability=0.0,
        filler_after_s=0.05,
    )
    assert await collect(never, "Harbor Street?") == "ok" and never.fillers == 0
    default = GroundedLLM(
        inner=ScriptedLLM(["ok"]),
        knowledge=FakeKnowledge(PASSAGES, delay_s=0.2),
        phrase_probability=1.0,
        filler_after_s=0.05,
        rng=random.Random(1),
    )
    assert (await collect(default, "Harbor Street?")).startswith(DEFAULT_FILLER)


async def test_a_failed_or_hung_lookup_does_not_fail_the_reply() -> None:
    inner = ScriptedLLM(["I am not sure."])
    failing = GroundedLLM(inner=inner, knowledge=FakeKnowledge(PASSAGES, fail=True))
    assert await collect(failing, "Harbor Street?") == "I am not sure."
    assert CONTEXT_HEADER not in inner.requests[0][0].content
    hung = GroundedLLM(
        inner=ScriptedLLM(["ok"]),
        knowledge=FakeKnowledge(PASSAGES, delay_s=5),
        lookup_timeout_s=0.1,
        phrase_probability=0.0,
    )
    assert await asyncio.wait_for(collect(hung, "Harbor Street?"), 2) == "ok"


async def test_closing_the_reply_mid_lookup_cancels_it() -> None:
    knowledge = FakeKnowledge(PASSAGES, delay_s=5)
    llm = GroundedLLM(
        inner=ScriptedLLM(["ok"]), knowledge=knowledge, phrase_probability=1, filler_after_s=0.01
    )
    stream = llm.stream([ChatMessage("user", "Harbor Street?")])
    assert await stream.__anext__() == DEFAULT_FILLER + " "
    await asyncio.wait_for(stream.aclose(), 1)  # barge-in: returns at once
