"""Webhook retry policy: outcome classification and the retry schedule. Pure functions.

Schedule (delays after each failed attempt, measured from that attempt):

    attempt  1: immediately
    attempt  2: +10 s      | Ringg's documented retries
    attempt  3: +1 min     |
    attempt  4: +2 min     |   (cumulative ≈ 3 min)
    attempt  5: +5 min          (≈ 8 min)
    attempt  6: +30 min         (≈ 38 min)
    attempt  7: +2 h            (≈ 2.6 h)
    attempt  8: +5 h            (≈ 7.6 h)
    attempt  9: +10 h           (≈ 17.6 h)
    attempt 10: +14 h           (≈ 31.6 h)
    attempt 11: +20 h           (≈ 51.6 h)
    attempt 12: +20 h           (≈ 71.6 h ≈ 3 days; then give up)

Each delay gets ±10 % jitter (so endpoints that fail together do not retry together).
A `Retry-After` longer than the scheduled delay wins, capped at 24 h; it never adds
attempts. Outcomes: any 2xx is success (Ringg documents 200; we accept the class);
410 Gone disables the endpoint; 408, 429, 5xx, 3xx (redirects are not followed) and
transport failures (timeout, connection, TLS, DNS) are retried; other 4xx and refused
URLs give up at once.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

DEFAULT_DELAYS_S: tuple[float, ...] = (
    10,
    60,
    120,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    20 * 3600,
)


class Outcome(enum.Enum):
    """What one attempt's result means for the delivery."""

    SUCCESS = "success"
    RETRY = "retry"
    DISABLE = "disable"
    FAIL = "fail"


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrySchedule:
    """Delays between attempts, jitter, and the `Retry-After` ceiling."""

    delays_s: tuple[float, ...] = DEFAULT_DELAYS_S
    jitter_fraction: float = 0.1
    retry_after_max_s: float = 24 * 3600

    @property
    def max_attempts(self) -> int:
        return len(self.delays_s) + 1


@dataclass(frozen=True, slots=True)
class Done:
    """Delivered."""


@dataclass(frozen=True, slots=True)
class RetryAt:
    """Try again at `at` (UTC)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class Disable:
    """Stop, and disable the endpoint (it answered 410 Gone)."""

    reason: str


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Stop trying this message (permanent error or attempts exhausted)."""

    reason: str


NextAction = Done | RetryAt | Disable | GiveUp


def classify_status(status_code: int) -> Outcome:
    """The outcome of an attempt that got an HTTP response with `status_code`."""
    if 200 <= status_code <= 299:
        return Outcome.SUCCESS
    if status_code == 410:
        return Outcome.DISABLE
    if status_code in (408, 429):
        return Outcome.RETRY
    if 400 <= status_code <= 499:
        return Outcome.FAIL
    return Outcome.RETRY


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or HTTP date).

    None when absent or unparseable; 0 for dates in the past. Not clamped here.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def retry_delay_s(
    *,
    attempt: int,
    schedule: RetrySchedule,
    rng: random.Random,
    retry_after_s: float | None = None,
) -> float | None:
    """Delay before the attempt after failed attempt number `attempt` (1-based).

    None when `attempt` was the last one the schedule allows.
    """
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    if attempt > len(schedule.delays_s):
        return None
    base = schedule.delays_s[attempt - 1]
    jitter = schedule.jitter_fraction
    delay = base * (1.0 + rng.uniform(-jitter, jitter))
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, schedule.retry_after_max_s))
    return delay


def decide(
    outcome: Outcome,
    *,
    attempt: int,
    now: datetime,
    schedule: RetrySchedule,
    rng: random.Random,
    retry_after_s: float | None = None,
    reason: str = "",
) -> NextAction:
    """What to do after attempt number `attempt` ended with `outcome` at `now`."""
    if outcome is Outcome.SUCCESS:
        return Done()
    if outcome is Outcome.DISABLE:
        return Disable(reason or "endpoint answered 410 Gone")
    if outcome is Outcome.FAIL:
        return GiveUp(reason or "permanent failure")
    delay = retry_delay_s(attempt=attempt, schedule=schedule, rng=rng, retry_after_s=retry_after_s)
    if delay is None:
        last = f"; last: {reason}" if reason else ""
        return GiveUp(f"{attempt} attempts failed{last}")
    return RetryAt(now + timedelta(seconds=delay))
