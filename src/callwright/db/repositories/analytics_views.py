"""The views of the analytics roll-up: which sums over final calls are kept, at which grain, and
how one call maps to a row of each.

Both sides use these expressions: the roll-up to add calls to ``call_rollups``, and the reads
(``analytics.py``) to group the calls they take from ``calls``, so the two cannot disagree on
a call's key. An expression takes the column collection of the calls it reads (the ``calls``
table, or the roll-up's batch of them).

Why several narrow views rather than one row per every dimension: a key holding agent,
campaign, caller number, status, duration and label at once has nearly as many rows as there
are calls, and sums nothing. Each view keeps the few dimensions one figure needs, for every
call (``ALL``), per agent and per campaign. A filter the view has no rows for (agent and
campaign at once, in the views that sum agents) is answered from ``calls`` alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, String, case, cast, func, literal, literal_column
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.expression import ColumnCollection

from callwright.domain.call import CallStatus

QUARTER_S = 15 * 60  # any real UTC offset is a whole number of quarters: days split exactly
DAY_S = 24 * 60 * 60
# Upper edges (seconds, exclusive) of the duration buckets; the last bucket is open-ended.
DURATION_EDGES_S = (10, 30, 60, 120, 300, 600)

Cols = ColumnCollection[str, ColumnElement[Any]]
# The call columns the views and the filters read (``platform_analysis`` only the label view).
CALL_COLUMNS = ("workspace_id", "created_at", "agent_id", "bulk_list_id", "from_number",
                "status", "sub_status", "voicemail_detected", "call_duration", "call_cost",
                "platform_analysis_status")  # fmt: skip


def final(c: Cols) -> ColumnElement[bool]:
    """Calls whose figures no longer change: a terminal status (never left again), and the
    post-call analysis done for good. A ``failed`` analysis may still be retried, so it is not
    final: those calls stay on the raw path."""
    terminal = [s.value for s in CallStatus if s.is_terminal]
    return c.status.in_(terminal) & c.platform_analysis_status.in_(("success", "not_enabled"))


def duration_bucket(c: Cols) -> ColumnElement[int]:
    """0 for [0, 10) s, 1 for [10, 30) s, ... len(DURATION_EDGES_S) for the open top bucket."""
    return case(
        *[(c.call_duration < edge, i) for i, edge in enumerate(DURATION_EDGES_S)],
        else_=len(DURATION_EDGES_S),
    )


def label(c: Cols) -> ColumnElement[str]:
    """The classification label of the post-call analysis, '' when there is none."""
    # CAST: SQLite's json_extract gives a JSON number as a number; the roll-up stores text.
    return func.coalesce(cast(c.platform_analysis["classification"].as_string(), String), "")


@dataclass(frozen=True, slots=True)
class View:
    """One sum kept per (bucket, scope, status, voicemail, detail).

    Scopes: ``agent_is_key`` (the figure groups by agent): rows per agent, over all its calls
    and per campaign. Otherwise: rows over every agent (``ALL``) and per agent, and per
    campaign over every agent; agent and campaign at once are not kept. ``by_campaign``:
    campaign rows are kept at all. ``where``: the calls the view counts.
    """

    name: str
    grain_s: int
    status: Callable[[Cols], ColumnElement[str]]
    detail: Callable[[Cols], ColumnElement[str]]
    where: Callable[[Cols], ColumnElement[bool]] | None = None
    agent_is_key: bool = False
    by_campaign: bool = True
    reads_analysis: bool = False  # platform_analysis, beside CALL_COLUMNS

    def serves(self, *, agent: bool, campaign: bool) -> bool:
        """Whether the view holds rows for these filters."""
        if campaign and not self.by_campaign:
            return False
        return self.agent_is_key or not (agent and campaign)


def _connected_or_not(c: Cols) -> ColumnElement[str]:
    # The per-day series only tells completed calls from the rest (with voicemail, that is
    # "connected"); one status value for the rest keeps its rows few.
    return case((c.status == CallStatus.COMPLETED.value, CallStatus.COMPLETED.value), else_="")


def _nothing(c: Cols) -> ColumnElement[str]:
    return literal("", String)


# Totals per agent, status, voicemail and sub-status: the platform and drill-down figures.
STATUS = View(
    "status", DAY_S, status=lambda c: c.status, detail=lambda c: c.sub_status, agent_is_key=True
)
# Per caller number.
NUMBER = View(
    "number", DAY_S, status=lambda c: c.status, detail=lambda c: func.coalesce(c.from_number, "")
)
# Completed calls per duration bucket (detail: the bucket's index).
DURATION = View(
    "duration",
    DAY_S,
    status=_nothing,
    detail=lambda c: cast(duration_bucket(c), String),
    where=lambda c: c.status == CallStatus.COMPLETED.value,
)
# Calls per analysis status and label; only analysed calls are ever final, but the same WHERE
# picks the pending and failed ones from ``calls``.
LABEL = View(
    "label",
    DAY_S,
    status=lambda c: c.platform_analysis_status,
    detail=label,
    where=lambda c: c.platform_analysis_status.in_(("success", "pending", "failed")),
    reads_analysis=True,
)
# The calls-per-day series. Whole UTC days serve days at offset 0; half hours most other
# offsets (+05:30, -03:30), at half the rows of quarters, which serve the rest (+05:45).
# Below a day, only for every call and per agent: per campaign, a bucket holds a few calls.
SERIES_DAY = View("series_day", DAY_S, status=_connected_or_not, detail=_nothing)
SERIES_HALF_HOUR = View(
    "series_half_hour", 2 * QUARTER_S, status=_connected_or_not, detail=_nothing,
    by_campaign=False,
)  # fmt: skip
SERIES_QUARTER = View(
    "series_quarter", QUARTER_S, status=_connected_or_not, detail=_nothing, by_campaign=False
)
SERIES = (SERIES_DAY, SERIES_HALF_HOUR, SERIES_QUARTER)  # the coarsest that serves, first
VIEWS = (STATUS, NUMBER, DURATION, LABEL, *SERIES)


# ---------------------------------------------------------------- time, per dialect


def epoch_s(created_at: ColumnElement[Any], dialect: str) -> ColumnElement[int]:
    """``created_at`` in whole Unix seconds (the fraction dropped)."""
    if dialect == "sqlite":
        # created_at is naive UTC text; '%s' reads it as UTC. Inlined, as every literal here:
        # GROUP BY repeats the expression, and PostgreSQL would see two different parameters.
        return cast(func.strftime(literal_column("'%s'"), created_at), BigInteger)
    return cast(func.floor(func.extract("epoch", created_at)), BigInteger)


def bucket_of(created_at: ColumnElement[Any], grain_s: int, dialect: str) -> ColumnElement[int]:
    """The start (Unix seconds) of the UTC bucket holding ``created_at``."""
    grain = literal_column(str(int(grain_s)), BigInteger)
    return (epoch_s(created_at, dialect) // grain) * grain  # integer division on both


def day_number(seconds: ColumnElement[int], offset_min: int) -> ColumnElement[int]:
    """The calendar day, at a fixed UTC offset, of an instant in Unix seconds: days since
    1970-01-01. Grouping by a number costs far less than formatting a date per row; the
    caller names the day."""
    shifted = seconds + literal_column(str(int(offset_min) * 60), BigInteger)
    return shifted // literal_column(str(DAY_S), BigInteger)


def group_keys(*exprs: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    """The expressions to GROUP BY: constants are left out (PostgreSQL refuses some)."""
    return [e for e in exprs if not isinstance(e, BindParameter)]
