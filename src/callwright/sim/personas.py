"""What simulated callees are like: the persona description, the catalogue, and the
keyword rules a cooperative callee answers with.

A persona is data (:class:`PersonaSpec`); :class:`callwright.sim.persona.Persona` acts it out.
Calls choose one by ``custom_args_values.persona``: a catalogue name, or a short free
description that :func:`resolve_persona` maps onto the nearest behaviour.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Interjection:
    """Speech over the agent: ``text`` starts ``after_ms`` after the onset of the agent's
    ``on_agent_turns``-th utterances (1-based; empty = every utterance)."""

    text: str
    after_ms: int
    on_agent_turns: tuple[int, ...] = (1,)


@dataclass(frozen=True, slots=True)
class PersonaSpec:
    """A simulated callee: a description and the behaviour that goes with it.

    ``replies`` are said in order, one per agent utterance; when they run out the callee
    answers by keyword rules (``rule_replies``) or, with ``repeat_replies``, starts over.
    """

    name: str
    description: str
    callee_name: str = "Alex"  # "what is your name?"; a call's callee_name variable wins
    greeting: str | None = None  # said on pick-up
    replies: tuple[str, ...] = ()
    repeat_replies: bool = False
    rule_replies: bool = True
    speaks: bool = True  # False: never says anything
    interrupt: Interjection | None = None
    backchannel: Interjection | None = None
    hangup_after_agent_turns: int | None = None  # hang up when this agent utterance ends
    hangup_on_goodbye: bool = True  # hang up shortly after the agent says goodbye
    yield_after_ms: int | None = None  # stop talking when the agent talks over us this long
    voicemail: bool = False  # a greeting, a beep, then silence; never replies
    # After this many replies the callee takes leave (a real person does not talk forever).
    patience_replies: int | None = None


COOPERATIVE = PersonaSpec(
    name="cooperative",
    description="Friendly callee who answers every question briefly and agrees.",
    patience_replies=4,
)
LEAVE_TAKING = "Thank you, that is all I needed. Goodbye!"

CATALOGUE: dict[str, PersonaSpec] = {
    p.name: p
    for p in (
        COOPERATIVE,
        PersonaSpec(
            name="interrupter",
            description="Cuts the agent off a second into its first sentence.",
            interrupt=Interjection("Wait, stop. I have a question about my bill.", after_ms=1000),
        ),
        PersonaSpec(
            name="backchanneler",
            description="Says 'okay' while the agent is talking, without meaning to interrupt.",
            backchannel=Interjection("Okay.", after_ms=900),
        ),
        PersonaSpec(
            name="silent",
            description="Picks up and never says a word.",
            speaks=False,
            hangup_on_goodbye=False,
        ),
        PersonaSpec(
            name="talkative",
            description="Keeps talking at length about anything.",
            replies=(
                "Oh that reminds me of the time I went to the market with my brother and we "
                "spent the whole afternoon looking at old radios and talking about the weather "
                "and the traffic and the price of vegetables.",
                "And then my neighbour came over and told me all about her garden, the roses "
                "and the tomatoes and the little lemon tree that never seems to grow at all.",
            ),
            repeat_replies=True,
            rule_replies=False,
            yield_after_ms=800,
        ),
        PersonaSpec(
            name="questioner",
            description="Answers with questions of their own.",
            replies=("What are your opening hours?", "How much does the premium plan cost?"),
        ),
        PersonaSpec(
            name="hangs_up",
            description="Answers once, then hangs up after the agent's second utterance.",
            hangup_after_agent_turns=2,
        ),
        PersonaSpec(
            name="hangs_up_after_greeting",
            description="Hangs up as soon as the agent's greeting ends.",
            speaks=False,
            hangup_after_agent_turns=1,
        ),
        PersonaSpec(
            name="voicemail",
            description="A voicemail box: greeting, beep, then silence.",
            greeting="Hi, you have reached Alex. I can't take your call right now. "
            "Please leave a message after the beep.",
            rule_replies=False,
            hangup_on_goodbye=False,
            voicemail=True,
        ),
    )
}

# Free descriptions: the first rule whose pattern matches picks the behaviour.
_DESCRIPTION_RULES: tuple[tuple[str, str], ...] = (
    (r"voice ?mail|answering machine", "voicemail"),
    (r"silent|quiet|says nothing|never speaks|mute", "silent"),
    (r"interrupt|cuts? (the agent )?off|talks over", "interrupter"),
    (r"backchannel|\bokay\b|mhm|uh-huh", "backchanneler"),
    (r"talkative|rambl|chatty|talks a lot|keeps talking", "talkative"),
    (r"hangs? up|hang-up|impatient", "hangs_up"),
    (r"question|curious|asks", "questioner"),
)


def resolve_persona(value: str | None) -> PersonaSpec:
    """A catalogue name → that persona; a free description → the matching behaviour with the
    description kept; nothing → the cooperative default."""
    text = (value or "").strip()
    if not text:
        return COOPERATIVE
    key = text.lower().replace("-", "_").replace(" ", "_")
    if key in CATALOGUE:
        return CATALOGUE[key]
    lowered = text.lower()
    for pattern, name in _DESCRIPTION_RULES:
        if re.search(pattern, lowered):
            return replace(CATALOGUE[name], description=text)
    return replace(COOPERATIVE, description=text)


def callee_name(spec: PersonaSpec, variables: Mapping[str, str]) -> str:
    """The name the callee answers to: the call's ``callee_name`` variable, else the persona's."""
    return (variables.get("callee_name") or "").strip() or spec.callee_name


_GOODBYE = re.compile(r"\b(good ?bye|bye|have a (great|good|nice) (day|evening))\b")
_NAME_Q = re.compile(
    r"\b(your name|who am i (speaking|talking) (to|with)|(am i )?(speaking|talking) (to|with) \w+"
    r"\s*\?|is this \w+\s*\?|is that \w+\s*\?)"
)
_HOW_ARE_YOU = re.compile(r"\bhow are you\b")
_CONFIRMED = re.compile(r"\b(booked|confirmed|scheduled|all set|see you then)\b")
_AUX = frozenset(
    "is are do does did can could would will shall should may have has am was were".split()
)
_WH = frozenset("what when which where why how who whom whose".split())


def is_goodbye(heard: str) -> bool:
    return bool(_GOODBYE.search(heard.lower()))


def cooperative_reply(heard: str, *, name: str) -> str | None:
    """What a cooperative callee says to ``heard`` (None: nothing to answer)."""
    text = heard.lower().strip()
    if not text or is_goodbye(text):
        return None
    if _NAME_Q.search(text):
        return f"Yes, this is {name}. My name is {name}."
    if _CONFIRMED.search(text) and _last_question(text) is None:
        return "Great, thank you. Goodbye!"
    if _HOW_ARE_YOU.search(text):
        return "I am doing well, thank you. Yes, I have a minute."
    question = _last_question(text)
    if question is None:
        return "Okay, that sounds good. Please go on." if text else None
    words = re.findall(r"[a-z']+", question)
    first = next((w for w in words if w not in {"so", "and", "well", "ok", "okay", "now"}), "")
    if first in _WH:
        return "Tomorrow morning at ten would be best for me."
    if first in _AUX:
        return "Yes, that works for me."
    return "Yes, sure."


def _last_question(text: str) -> str | None:
    """The last sentence of ``text`` that ends in a question mark."""
    sentences = re.findall(r"[^.?!]*[.?!]?", text)
    questions = [s for s in sentences if s.strip().endswith("?")]
    return questions[-1] if questions else None
