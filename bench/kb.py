#!/usr/bin/env python3
"""Knowledge-base retrieval quality and speed, and ingestion time of a 5 MB PDF.

Corpus: ``--entities`` fictional places (clinics, branches, hotels ...), each described in
ten chunks: eight facts (one each, with a filler sentence) and two of background (300
chunks by default). Facts come from varied templates; the 200 questions ask for one fact
each in *other* words than the chunk uses ("shuts its doors at" / "how late can I visit",
"runs the" / "who is the boss"). Every place has ten chunks, so finding its name is not
enough: the chunk with the asked-for fact must rank in the top 5.

Figures: recall@5 of lexical (SQLite FTS5 bm25), dense (all-MiniLM-L6-v2 in numpy) and
fused (reciprocal rank fusion) retrieval; end-to-end retrieval latency of
``Retriever.search`` (query embedding + FTS + vector scan + chunk fetch) p50/p99 (goal
p99 <= 30 ms); ingestion of a generated 5 MB PDF (120 pages of text, each with a scanned-
looking greyscale figure, as manuals are) split into extract / chunk / embed / store.

Prints ONE JSON line.   .venv/bin/python bench/kb.py [--no-dense] [--pdf-mb 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callwright.db.engine import create_engine, session_factory
from callwright.db.migrate import upgrade
from callwright.db.models_kb import KnowledgeBase, KnowledgeSource
from callwright.db.repositories import knowledge as kb_repo
from callwright.db.repositories.knowledge import NewChunk
from callwright.db.types import utcnow
from callwright.knowledge import ingest
from callwright.knowledge.chunking import chunk_sections
from callwright.knowledge.dense import to_blob
from callwright.knowledge.retriever import EmbedderSource, Retriever
from callwright.testing.documents import pdf_document

SYLLABLES = [
    "bri",
    "cor",
    "dal",
    "fen",
    "gar",
    "hol",
    "kes",
    "lum",
    "mar",
    "nor",
    "ost",
    "pel",
    "quin",
    "ros",
    "sal",
    "tor",
    "vel",
    "wen",
    "yar",
    "zel",
    "an",
    "ber",
]
KINDS = ["clinic", "branch", "hotel", "bakery", "gym", "library", "garage", "pharmacy"]
PEOPLE = [
    "Amara Okafor",
    "Liam Brennan",
    "Sofia Marquez",
    "Kenji Watanabe",
    "Priya Natarajan",
    "Tomas Novak",
    "Grace Oduya",
    "Henrik Dahl",
    "Mei Lin",
    "Omar Haddad",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SERVICES = ["haircut", "oil change", "checkup", "day pass", "birthday cake", "room upgrade"]
WORDS = ["seashell", "lantern", "juniper", "copperfox", "bluebell", "marigold", "thunder"]

# (fact templates, question templates). Questions name the place but otherwise avoid the
# fact's words (and its value), so the name alone ties ten chunks and lexical search must
# find the asked-for fact through paraphrase; some question words hit other facts' chunks
# ("open" / "opened its doors") as real questions do.
ATTRIBUTES: dict[str, tuple[list[str], list[str]]] = {
    "close": (
        [
            "The {n} {k} shuts its doors at {time} on {day}s.",
            "On {day}s, staff at {n} lock up at {time}.",
        ],
        ["How late can I visit {n}?", "Until what hour is {n} open?"],
    ),
    "manager": (
        ["{person} runs the {n} {k}.", "Day-to-day operations at {n} are overseen by {person}."],
        ["Who is the boss at {n}?", "Who manages {n}?"],
    ),
    "parking": (
        [
            "Visitors to {n} can leave their car in the {spaces}-space lot behind the building.",
            "There is room for {spaces} vehicles in the lot behind {n}.",
        ],
        ["Is there somewhere to park near {n}?", "Can I drive to {n} and park?"],
    ),
    "price": (
        [
            "A {service} at {n} costs {price} dollars.",
            "{n} charges {price} dollars for a {service}.",
        ],
        ["How expensive is {n}?", "What will I pay at {n}?"],
    ),
    "phone": (
        ["Reach the {n} front desk on {phone}.", "The {n} {k} answers calls at {phone}."],
        ["How can I ring {n}?", "What is the contact number for {n}?"],
    ),
    "pets": (
        [
            "{n} welcomes dogs on a leash.",
            "Animals other than guide dogs are not permitted at {n}.",
        ],
        ["Can I bring my puppy to {n}?", "Is {n} pet friendly?"],
    ),
    "founded": (
        ["{n} opened its doors in {year}.", "The {n} {k} has been serving the town since {year}."],
        ["When was {n} established?", "How old is {n}?"],
    ),
    "wifi": (
        [
            "Guests at {n} get free wireless internet; the password is {word}.",
            "The network key for internet access at {n} is {word}.",
        ],
        ["What is the wifi code at {n}?", "How do I get online at {n}?"],
    ),
}
EXACT = {
    "phone": ["Which place can I reach on {phone}?", "Whose number is {phone}?"],
    "wifi": ["Where is {word} the password?", "Which location uses {word} for its network?"],
    "manager": ["Where does {person} work?"],
    "founded": ["Which place started in {year}?"],
    "parking": ["Which place has {spaces} spaces?"],
    "price": ["Where does it cost {price} dollars?"],
    "close": ["What closes at {time} on {day}s?"],
    "pets": ["Which place welcomes dogs on a leash?"],
}
FILLERS = [
    "Customers often praise the friendly atmosphere.",
    "The building was renovated recently.",
    "Seasonal offers are announced on the notice board.",
    "Local schools sometimes visit for tours.",
]


@dataclass(frozen=True)
class Question:
    text: str
    chunk_key: tuple[int, int]  # (entity, chunk number)


def build_corpus(
    entities: int, questions: int, rng: random.Random
) -> tuple[dict[tuple[int, int], str], list[Question]]:
    names: set[str] = set()
    chunks: dict[tuple[int, int], str] = {}
    asked: list[Question] = []
    facts: list[tuple[int, int, str, dict[str, str]]] = []
    for e in range(entities):
        while True:
            name = "".join(rng.sample(SYLLABLES, 2)).capitalize() + rng.choice(
                ["ton", "wick", "field", "dale"]
            )
            if name not in names:
                names.add(name)
                break
        values = {
            "n": name,
            "k": rng.choice(KINDS),
            "time": f"{rng.randint(5, 10)}:{rng.choice(['00', '15', '30', '45'])} pm",
            "day": rng.choice(DAYS),
            "person": rng.choice(PEOPLE),
            "spaces": str(rng.randint(8, 90)),
            "service": rng.choice(SERVICES),
            "price": str(rng.randint(9, 180)),
            "phone": f"555-{rng.randint(1000, 9999)}",
            "year": str(rng.randint(1950, 2022)),
            "word": rng.choice(WORDS) + str(rng.randint(10, 99)),
        }
        # ten chunks per place: one per fact (with a filler sentence), two of background
        for c, attr in enumerate(sorted(ATTRIBUTES)):
            fact = rng.choice(ATTRIBUTES[attr][0]).format(**values)
            chunks[(e, c)] = f"{fact} {rng.choice(FILLERS)}"
            facts.append((e, c, attr, values))
        for c in (8, 9):
            chunks[(e, c)] = f"About {name}: " + " ".join(rng.sample(FILLERS, 2))
    # Three in four ask in other words; one in four quote an exact value (a phone number, a
    # password) and ask whose it is: the kind of question full-text search is there for.
    for n, (e, c, attr, values) in enumerate(rng.sample(facts, questions)):
        if n % 4 == 3 and attr in EXACT:
            text = rng.choice(EXACT[attr]).format(**values)
        else:
            text = rng.choice(ATTRIBUTES[attr][1]).format(**values)
        asked.append(Question(text, (e, c)))
    return chunks, asked


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entities", type=int, default=30)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--pdf-mb", type=float, default=5.0)
    parser.add_argument("--no-dense", action="store_true")
    parser.add_argument("--lexical-weight", type=float, default=None)
    args = parser.parse_args()
    rng = random.Random(2026)
    chunks, questions = build_corpus(args.entities, args.questions, rng)

    tmp = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    engine = create_engine(f"sqlite+aiosqlite:///{tmp / 'kb.db'}")
    await upgrade(engine)
    uow = session_factory(engine)
    embedders = EmbedderSource(enabled=not args.no_dense)
    embedder = await embedders.get()
    keys = list(chunks)
    t0 = time.perf_counter()
    vectors = embedder.embed([chunks[k] for k in keys]) if embedder else None
    embed_corpus_s = time.perf_counter() - t0
    now = utcnow()
    async with uow.begin() as session:
        session.add(
            KnowledgeBase(
                id="kb",
                workspace_id="ws",
                name="bench",
                status="completed",
                revision=1,
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
        src = KnowledgeSource(
            id="src",
            kb_id="kb",
            workspace_id="ws",
            kind="file",
            filename="places.txt",
            file_type=ingest.TEXT,
            file_size=0,
            meta={},
            status="completed",
            chunk_count=len(keys),
            created_at=now,
        )
        session.add(src)
        await session.flush()
        await kb_repo.replace_chunks(
            session,
            src,
            [
                NewChunk(
                    n,
                    "",
                    chunks[k],
                    to_blob(vectors[n]) if vectors is not None else None,
                    embedder.name if embedder else None,
                )
                for n, k in enumerate(keys)
            ],
        )
    async with uow() as session:
        ids = {
            k: cid
            for k, cid in zip(
                keys,
                sorted(
                    (
                        await kb_repo.chunks_by_id(session, "ws", list(range(1, len(keys) + 1)))
                    ).keys()
                ),
                strict=True,
            )
        }
    retriever = Retriever(uow=uow, embedders=embedders)
    if args.lexical_weight is not None:
        retriever.lexical_weight = args.lexical_weight
    hits = {"lexical": 0, "dense": 0, "fused": 0}
    await retriever.search("ws", ["kb"], "warm up")  # load the vector cache
    latencies: list[float] = []
    for q in questions:
        target = ids[q.chunk_key]
        ranked = await retriever.rank("ws", ["kb"], q.text)
        for name, ranking in (
            ("lexical", ranked.lexical),
            ("dense", ranked.dense),
            ("fused", ranked.fused),
        ):
            hits[name] += target in ranking[:5]
        t = time.perf_counter()
        await retriever.search("ws", ["kb"], q.text, k=5)
        latencies.append((time.perf_counter() - t) * 1000)

    pdf_figures = await ingest_pdf(args.pdf_mb, chunks, uow, embedder) if args.pdf_mb > 0 else None
    await engine.dispose()
    n = len(questions)
    print(
        json.dumps(
            {
                "bench": "kb",
                "chunks": len(keys),
                "questions": n,
                "dense_model": embedder.name if embedder else None,
                "lexical_weight": retriever.lexical_weight,
                "recall_at_5": {k: round(v / n, 3) for k, v in hits.items()},
                "retrieval_ms": {
                    "p50": round(statistics.median(latencies), 2),
                    "p99": round(pct(latencies, 0.99), 2),
                    "max": round(max(latencies), 2),
                    "goal_p99": 30,
                },
                "corpus_embed_s": round(embed_corpus_s, 2),
                "pdf": pdf_figures,
                "conditions": {
                    "db": "sqlite",
                    "cpus": os.cpu_count(),
                    "python": sys.version.split()[0],
                    "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
                },
            }
        )
    )


async def ingest_pdf(
    pdf_mb: float, chunks: dict[tuple[int, int], str], uow: Any, embedder: Any
) -> dict[str, Any]:
    """Ingestion of a generated PDF of about ``pdf_mb`` MB, stage by stage."""
    now = utcnow()
    prose = " ".join(chunks.values())
    page_text = [prose[(i * 2900) % (len(prose) - 3000) :][:2900] for i in range(120)]
    target_bytes = int(pdf_mb * 1024 * 1024)
    text_only = len(pdf_document(page_text))
    per_page_image = max(0, (target_bytes - text_only) // 120 - 200)
    pdf = pdf_document(page_text, image_bytes_per_page=per_page_image)
    t = time.perf_counter()
    sections = ingest.extract(ingest.PDF, pdf)
    extract_s = time.perf_counter() - t
    t = time.perf_counter()
    pdf_chunks = chunk_sections(sections)
    chunk_s = time.perf_counter() - t
    t = time.perf_counter()
    pdf_vectors = embedder.embed([c.text for c in pdf_chunks]) if embedder else None
    embed_s = time.perf_counter() - t
    t = time.perf_counter()
    async with uow.begin() as session:
        pdf_src = KnowledgeSource(
            id="pdf",
            kb_id="kb",
            workspace_id="ws",
            kind="file",
            filename="manual.pdf",
            file_type=ingest.PDF,
            file_size=len(pdf),
            meta={},
            status="completed",
            chunk_count=0,
            created_at=now,
        )
        session.add(pdf_src)
        await session.flush()
        await kb_repo.replace_chunks(
            session,
            pdf_src,
            [
                NewChunk(
                    c.position,
                    c.location,
                    c.text,
                    to_blob(pdf_vectors[n]) if pdf_vectors is not None else None,
                    embedder.name if embedder else None,
                )
                for n, c in enumerate(pdf_chunks)
            ],
        )
    store_s = time.perf_counter() - t
    return {
        "bytes": len(pdf),
        "pages": len(sections),
        "text_chars": sum(len(s.text) for s in sections),
        "chunks": len(pdf_chunks),
        "extract_s": round(extract_s, 2),
        "chunk_s": round(chunk_s, 3),
        "embed_s": round(embed_s, 2),
        "store_s": round(store_s, 2),
        "total_s": round(extract_s + chunk_s + embed_s + store_s, 2),
    }


if __name__ == "__main__":
    asyncio.run(main())
