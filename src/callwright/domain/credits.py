"""Credits: a call locks an estimate when queued and pays for its connected time when it ends."""

from __future__ import annotations

import math


def estimate(max_call_length_s: int, *, credits_per_minute: float) -> float:
    """What a call may cost at most: its longest allowed duration, in whole minutes."""
    return round(math.ceil(max_call_length_s / 60) * credits_per_minute, 4)


def cost(duration_s: float, *, credits_per_minute: float) -> float:
    """Connected time billed per started second (no minimum)."""
    return round(math.ceil(max(0.0, duration_s)) / 60 * credits_per_minute, 4)
