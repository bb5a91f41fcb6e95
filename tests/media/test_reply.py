"""Sentence streaming and the mapping from frames sent back to heard text."""

from __future__ import annotations

from callwright.media.frames import AgentAudio
from callwright.media.reply import Reply, ReplyKind, SentenceSplitter, speak_text
from callwright.testing import FakeTTS, marker


def feed(splitter: SentenceSplitter, text: str, step: int = 3) -> list[str]:
    out: list[str] = []
    for i in range(0, len(text), step):
        out += splitter.push(text[i : i + step])
    rest = splitter.flush()
    return [*out, rest] if rest else out


def test_sentences_are_released_as_soon_as_they_end() -> None:
    text = "Dr. Rao will see you at ten. Is that okay? Great! Bye"
    assert feed(SentenceSplitter(), text) == [
        "Dr. Rao will see you at ten.",
        "Is that okay?",
        "Great! Bye",  # a piece shorter than MIN_SENTENCE_CHARS joins the next
    ]


def test_first_clause_may_go_early_only_once() -> None:
    text = "Sure, I can help with that, of course. Your order, number five, ships today."
    got = feed(SentenceSplitter(first_clause_chars=20), text)
    assert got == [
        "Sure, I can help with that,",
        "of course. Your order, number five, ships today.",
    ]
    assert feed(SentenceSplitter(), text)[0] == "Sure, I can help with that, of course."


async def test_heard_text_follows_frames_sent() -> None:
    reply = Reply(turn=1, kind=ReplyKind.INTRO, interruptible=True)
    frames: list[AgentAudio] = []
    await speak_text(reply, "One two three four. Five six.", tts=FakeTTS(), emit=frames.append)
    assert reply.generated and len(reply.segments) == 2
    first = reply.segments[0].frames_total
    assert reply.heard_text() == ""
    for f in frames[: first // 2]:
        reply.on_sent(f, 0.0)
    heard = reply.heard_text()
    played = marker.decode(b"".join(f.audio for f in frames[: first // 2]))
    assert heard and played.startswith(heard)  # never more than the audio that went out
    assert played.startswith("One two")
    for f in frames[first // 2 : first]:
        reply.on_sent(f, 0.0)
    assert reply.heard_text() == "One two three four."
    for f in frames[first:]:
        reply.on_sent(f, 0.0)
    assert reply.played_out
    assert reply.heard_text() == "One two three four. Five six."
