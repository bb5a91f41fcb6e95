"""What was said on a call: the LLM history and the spoken-order transcript."""

from __future__ import annotations

from callwright.media.prompting import is_goodbye
from callwright.providers.base import ChatMessage


class Conversation:
    """The LLM sees only what was really said and heard; the transcript keeps everything
    spoken (including backchannels the agent talked through), sorted by when it began."""

    __slots__ = ("_entries", "_history", "caller_said_goodbye")

    def __init__(self, *, system_prompt: str) -> None:
        self._history: list[ChatMessage] = [ChatMessage("system", system_prompt)]
        self._entries: list[tuple[float, str, str]] = []
        self.caller_said_goodbye = False

    def add_user(self, onset_s: float, text: str) -> None:
        """A caller turn. Speech that continues an unanswered turn joins its message."""
        self._entries.append((onset_s, "user", text))
        if is_goodbye(text):
            self.caller_said_goodbye = True
        last = self._history[-1]
        if last.role == "user":
            self._history[-1] = ChatMessage("user", f"{last.content} {text}")
        else:
            self._history.append(ChatMessage("user", text))

    def overheard(self, onset_s: float, text: str) -> None:
        """Caller speech that was not a turn (a backchannel): transcript only."""
        self._entries.append((onset_s, "user", text))

    def add_bot(self, started_s: float, text: str) -> None:
        """What the caller heard of an agent reply."""
        self._entries.append((started_s, "bot", text))
        self._history.append(ChatMessage("assistant", text))

    def messages(self) -> list[ChatMessage]:
        return list(self._history)

    def transcript(self) -> tuple[dict[str, str], ...]:
        ordered = sorted(self._entries, key=lambda e: e[0])
        return tuple({role: text} for _, role, text in ordered)
