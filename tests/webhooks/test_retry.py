"""Retry schedule and outcome classification (pure functions, seeded randomness)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from callwright.webhooks import (
    Disable,
    Done,
    GiveUp,
    Outcome,
    RetryAt,
    RetrySchedule,
    classify_status,
    decide,
    parse_retry_after,
    retry_delay_s,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SUCCESS),
        (201, Outcome.SUCCESS),
        (202, Outcome.SUCCESS),
        (204, Outcome.SUCCESS),
        (299, Outcome.SUCCESS),
        (410, Outcome.DISABLE),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (504, Outcome.RETRY),
        (599, Outcome.RETRY),
        (301, Outcome.RETRY),
        (302, Outcome.RETRY),
        (307, Outcome.RETRY),
        (400, Outcome.FAIL),
        (401, Outcome.FAIL),
        (403, Outcome.FAIL),
        (404, Outcome.FAIL),
        (405, Outcome.FAIL),
        (413, Outcome.FAIL),
        (422, Outcome.FAIL),
    ],
)
def test_classify_status(status: int, outcome: Outcome) -> None:
    assert classify_status(status) is outcome


def test_schedule_starts_like_ringg_and_spans_about_three_days() -> None:
    sched = RetrySchedule()
    assert sched.delays_s[:3] == (10, 60, 120)
    total_h = sum(sched.delays_s) / 3600
    assert 70 <= total_h <= 75
    assert sched.max_attempts == 12
    assert list(sched.delays_s) == sorted(sched.delays_s)


def test_jitter_stays_within_ten_percent_and_varies() -> None:
    rng = random.Random(7)
    sched = RetrySchedule()
    for attempt, base in enumerate(sched.delays_s, start=1):
        delays = {retry_delay_s(attempt=attempt, schedule=sched, rng=rng) for _ in range(50)}
        assert all(d is not None and 0.9 * base <= d <= 1.1 * base for d in delays)
        assert len(delays) > 40  # actually jittered
    no_jitter = RetrySchedule(jitter_fraction=0.0)
    assert retry_delay_s(attempt=2, schedule=no_jitter, rng=rng) == 60


def test_same_seed_same_decision() -> None:
    a = decide(Outcome.RETRY, attempt=3, now=NOW, schedule=RetrySchedule(), rng=random.Random(1))
    b = decide(Outcome.RETRY, attempt=3, now=NOW, schedule=RetrySchedule(), rng=random.Random(1))
    assert a == b and isinstance(a, RetryAt)
    assert timedelta(seconds=108) <= a.at - NOW <= timedelta(seconds=132)


def test_decide_each_outcome() -> None:
    rng = random.Random(0)
    sched = RetrySchedule()
    assert decide(Outcome.SUCCESS, attempt=1, now=NOW, schedule=sched, rng=rng) == Done()
    assert isinstance(decide(Outcome.DISABLE, attempt=1, now=NOW, schedule=sched, rng=rng), Disable)
    assert isinstance(decide(Outcome.FAIL, attempt=1, now=NOW, schedule=sched, rng=rng), GiveUp)
    first = decide(Outcome.RETRY, attempt=1, now=NOW, schedule=sched, rng=rng)
    assert isinstance(first, RetryAt)
    assert 9 <= (first.at - NOW).total_seconds() <= 11
    last = decide(Outcome.RETRY, attempt=11, now=NOW, schedule=sched, rng=rng)
    assert isinstance(last, RetryAt)
    exhausted = decide(
        Outcome.RETRY, attempt=12, now=NOW, schedule=sched, rng=rng, reason="HTTP 500"
    )
    assert isinstance(exhausted, GiveUp)
    assert "12 attempts" in exhausted.reason and "HTTP 500" in exhausted.reason


def test_whole_schedule_ends_near_three_days() -> None:
    rng = random.Random(3)
    now, attempt = NOW, 1
    while True:
        action = decide(Outcome.RETRY, attempt=attempt, now=now, schedule=RetrySchedule(), rng=rng)
        if not isinstance(action, RetryAt):
            break
        now, attempt = action.at, attempt + 1
    assert attempt == 12
    assert timedelta(hours=63) <= now - NOW <= timedelta(hours=79)


def test_retry_after_parsing() -> None:
    assert parse_retry_after(None, now=NOW) is None
    assert parse_retry_after("120", now=NOW) == 120
    assert parse_retry_after(" 7 ", now=NOW) == 7
    in_5_min = format_datetime(NOW + timedelta(minutes=5), usegmt=True)
    assert parse_retry_after(in_5_min, now=NOW) == 300
    assert parse_retry_after("Fri, 27 Nov 2026 11:00:00 GMT", now=NOW) == 0
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after("-5", now=NOW) is None
    assert parse_retry_after("1.5", now=NOW) is None


def test_retry_after_wins_when_longer_and_is_clamped() -> None:
    sched = RetrySchedule(jitter_fraction=0.0)
    rng = random.Random(0)
    assert retry_delay_s(attempt=1, schedule=sched, rng=rng, retry_after_s=300) == 300
    assert retry_delay_s(attempt=1, schedule=sched, rng=rng, retry_after_s=2) == 10
    assert retry_delay_s(attempt=1, schedule=sched, rng=rng, retry_after_s=10 * 86400) == 86400
    # It never adds attempts.
    assert retry_delay_s(attempt=12, schedule=sched, rng=rng, retry_after_s=60) is None
    with pytest.raises(ValueError):
        retry_delay_s(attempt=0, schedule=sched, rng=rng)
