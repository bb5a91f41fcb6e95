"""Turning a caller's words into a full-text query for SQLite FTS5 or PostgreSQL.

The query is a disjunction of the content words (BM25 / ts_rank weigh them): a caller's
question rarely repeats every word of the passage that answers it. Terms are reduced to
``\\w+`` tokens before they reach either query syntax, so no user text is ever parsed as
an operator.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 32

# Words that carry no topic; both engines would weigh them down anyway, and fewer terms
# keep the query cheap. (PostgreSQL's 'english' configuration drops its own list too.)
STOPWORDS = frozenset(
    """a an and are as at be but by can could did do does for from had has have how i if in
    is it its me my of on or our so than that the their them then there these they this to
    was we were what when where which who why will with would you your yours please tell
    about hi hello okay ok um uh yes no just know want like need""".split()
)


def query_terms(text: str) -> list[str]:
    """Lower-cased content words of ``text``, first occurrence order, at most MAX_TERMS."""
    seen: dict[str, None] = {}
    for token in _WORD.findall(text.lower()):
        if token in STOPWORDS or token.replace("_", "") == "":
            continue
        seen.setdefault(token, None)
    return list(seen)[:MAX_TERMS]


def fts5_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: each term quoted (a string, never an operator), OR-ed."""
    return " OR ".join('"' + term.replace('"', "") + '"' for term in terms)


def websearch_query(terms: list[str]) -> str:
    """A ``websearch_to_tsquery`` string: the terms joined by ``or``."""
    return " or ".join(terms)
