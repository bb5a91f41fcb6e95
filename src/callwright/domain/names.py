"""Ringg's smart_formatter: a callee's first name, optionally in Devanagari."""

from __future__ import annotations

import re

HONORIFICS = frozenset(
    "mr mrs ms miss mx dr prof sir madam shri smt sri kumari km er adv capt col "
    "mister master lady lord rev fr".split()
)
_SEPARATORS = re.compile(r"[\s,]+")

# A small dictionary of common Indian first names; transliteration falls back to the input.
_DEVANAGARI = {
    "rajesh": "राजेश", "ravi": "रवि", "amit": "अमित", "anita": "अनीता", "priya": "प्रिया",
    "rahul": "राहुल", "sunita": "सुनीता", "suresh": "सुरेश", "ramesh": "रमेश", "neha": "नेहा",
    "pooja": "पूजा", "vijay": "विजय", "sanjay": "संजय", "deepak": "दीपक", "kavita": "कविता",
    "arjun": "अर्जुन", "rohan": "रोहन", "meera": "मीरा", "anil": "अनिल", "sunil": "सुनील",
    "manoj": "मनोज", "abhishek": "अभिषेक", "aarti": "आरती", "geeta": "गीता", "mohan": "मोहन",
}  # fmt: skip


def first_name(full_name: str) -> str:
    """'Mr. Rajesh Kumar' → 'Rajesh'. Keeps the input when nothing is left."""
    words = [w for w in _SEPARATORS.split(full_name.strip()) if w]
    for word in words:
        if word.rstrip(".").lower() not in HONORIFICS:
            return word.rstrip(".")
    return full_name.strip()


def transliterate(name: str, *, target: str = "hi") -> str:
    """A name in the target script where our dictionary knows it (only Hindi for now)."""
    if target != "hi":
        return name
    return _DEVANAGARI.get(name.lower(), name)
