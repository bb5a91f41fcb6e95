"""When a call may be dialled: a daily window in a time zone, and an earliest start."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callwright.domain.errors import InvalidRequest


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest(f"Unknown time zone {name!r}") from exc


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def parse_scheduled_at(value: str, tz: ZoneInfo) -> datetime:
    """ISO 8601 with or without an offset; without one it is read in ``tz`` (Ringg §1.8)."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequest(f"Invalid scheduled_at {value!r}: use ISO 8601") from exc
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def next_allowed(now: datetime, *, start: str, end: str, tz_name: str) -> datetime:
    """The first instant at or after ``now`` inside the daily window [start, end) in ``tz``.

    Works on local wall-clock times, so a window keeps its meaning across DST changes.
    A window whose end is before its start wraps midnight (e.g. 22:00–02:00). Equal start and
    end mean "all day".
    """
    tz = zone(tz_name)
    begin, finish = _hhmm(start), _hhmm(end)
    if begin == finish:
        return now
    local = now.astimezone(tz)
    if _inside(local.time(), begin, finish):
        return now
    # Try today's and tomorrow's window openings (a wrapping window may open today).
    for days in (0, 1, 2):
        day = (local + timedelta(days=days)).date()
        opening = _resolve(datetime.combine(day, begin), tz)
        if opening >= now:
            return opening.astimezone(UTC)
    raise AssertionError("a daily window opens within two days")  # pragma: no cover


def _inside(t: time, begin: time, finish: time) -> bool:
    if begin < finish:
        return begin <= t < finish
    return t >= begin or t < finish


def _resolve(wall: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time in ``tz`` as an aware datetime; a time skipped by a DST jump moves
    to the first valid instant after the gap."""
    aware = wall.replace(tzinfo=tz)
    round_trip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != wall:  # in a spring-forward gap
        aware = (aware.astimezone(UTC)).astimezone(tz)
    return aware


def is_allowed(moment: datetime, *, start: str, end: str, tz_name: str) -> bool:
    tz = zone(tz_name)
    begin, finish = _hhmm(start), _hhmm(end)
    return begin == finish or _inside(moment.astimezone(tz).time(), begin, finish)
