"""Call rules as a small synchronous state machine: idle warning, idle hang-up, max length.

The session asks :meth:`CallRuleClock.check` on every media-clock tick; it answers with at
most one action. Keeping the timing rules here (no asyncio, explicit ``now_s``) makes them
testable with a fake clock and cheap enough to evaluate 50 times a second per call.
"""

from __future__ import annotations

from enum import Enum

from callwright.media.config import CallRules

HARD_STOP_GRACE_S = 20.0  # wrap-up line may play this long past max_call_length_s


class RuleAction(Enum):
    IDLE_WARNING = "idle_warning"  # speak the idle warning
    IDLE_END = "idle_end"  # hang up (after the optional idle_end_text)
    WRAP_UP = "wrap_up"  # max length reached: speak wrap-up, then hang up
    HARD_STOP = "hard_stop"  # wrap-up overran: hang up now


class CallRuleClock:
    """Tracks caller silence and call length against :class:`CallRules`."""

    __slots__ = ("_idle_since", "_rules", "_start_s", "_warned", "_wrapping")

    def __init__(self, rules: CallRules, *, start_s: float) -> None:
        self._rules = rules
        self._start_s = start_s
        self._idle_since: float | None = None
        self._warned = False
        self._wrapping = False

    @property
    def idle_since(self) -> float | None:
        return self._idle_since

    def caller_active(self) -> None:
        """The caller spoke (or a turn is in progress): the idle period ends."""
        self._idle_since = None
        self._warned = False

    def waiting_for_caller(self, now_s: float) -> None:
        """The agent finished and now waits; start the idle period unless one is running."""
        if self._idle_since is None:
            self._idle_since = now_s

    def check(self, now_s: float, *, agent_busy: bool) -> RuleAction | None:
        """The action due at ``now_s``. ``agent_busy``: a reply is being made or played."""
        elapsed = now_s - self._start_s
        if self._wrapping:
            overrun = elapsed >= self._rules.max_call_length_s + HARD_STOP_GRACE_S
            return RuleAction.HARD_STOP if overrun else None
        if elapsed >= self._rules.max_call_length_s:
            self._wrapping = True
            return RuleAction.WRAP_UP
        if agent_busy or self._idle_since is None:
            return None
        idle = now_s - self._idle_since
        if idle >= self._rules.idle_timeout_end_s:
            self._idle_since = None
            return RuleAction.IDLE_END
        if not self._warned and idle >= self._rules.idle_timeout_warning_s:
            self._warned = True
            return RuleAction.IDLE_WARNING
        return None
