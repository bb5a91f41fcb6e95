"""Idle warning, idle hang-up and max call length as a pure state machine."""

from __future__ import annotations

from callwright.media.config import CallRules
from callwright.media.rules import HARD_STOP_GRACE_S, CallRuleClock, RuleAction

RULES = CallRules(idle_timeout_warning_s=5, idle_timeout_end_s=10, max_call_length_s=240)


def run(
    clock: CallRuleClock, start: float, stop: float, busy: bool = False
) -> list[tuple[float, RuleAction]]:
    """Check every 20 ms in [start, stop); return (time, action) for each action."""
    out = []
    for i in range(round((stop - start) / 0.02)):
        t = round(start + i * 0.02, 6)
        a = clock.check(t, agent_busy=busy)
        if a is not None:
            out.append((round(t, 2), a))
    return out


def test_idle_warning_then_end_measured_from_one_start() -> None:
    c = CallRuleClock(RULES, start_s=0.0)
    assert run(c, 0.0, 3.0) == []  # idle period not started until the agent waits
    c.waiting_for_caller(3.0)
    assert run(c, 3.0, 20.0) == [(8.0, RuleAction.IDLE_WARNING), (13.0, RuleAction.IDLE_END)]


def test_caller_speech_resets_idle_and_rearms_warning() -> None:
    c = CallRuleClock(RULES, start_s=0.0)
    c.waiting_for_caller(0.0)
    assert run(c, 0.0, 6.0) == [(5.0, RuleAction.IDLE_WARNING)]
    c.caller_active()
    assert run(c, 6.0, 30.0) == []  # nobody waits while the caller's turn runs
    c.waiting_for_caller(30.0)
    assert run(c, 30.0, 36.0) == [(35.0, RuleAction.IDLE_WARNING)]


def test_no_idle_action_while_agent_busy() -> None:
    c = CallRuleClock(RULES, start_s=0.0)
    c.waiting_for_caller(0.0)
    assert run(c, 0.0, 12.0, busy=True) == []


def test_max_length_wraps_up_once_then_hard_stops() -> None:
    c = CallRuleClock(RULES, start_s=0.0)
    assert c.check(239.9, agent_busy=True) is None
    assert c.check(240.0, agent_busy=True) is RuleAction.WRAP_UP
    assert c.check(241.0, agent_busy=True) is None
    assert c.check(240.0 + HARD_STOP_GRACE_S, agent_busy=True) is RuleAction.HARD_STOP
